{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='customer_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_customers() }}"
    )
}}
-- depends_on: {{ ref('int_changed_customers') }}
{#
  Poor-experience rule hits found on invoice lines, one CTE per rule:
  - overcharge: a recurring line above the agreed monthly price by more than the threshold (percent);
    one row per recurring invoice line;
  - promo_not_applied: a subscription sold with a promo whose first invoice has no PROMO line for it; one
    row per subscription;
  - unquoted_fee: a visit fee on an invoice with no FEE_QUOTED contact in the threshold's days before the
    invoice day; one row per visit-fee invoice line.
  The rules share one model because they share their input: on an incremental run the invoices that can give
  a hit to a customer to rebuild are found among the invoice lines once (billing_invoice_lines_in_scope),
  rather than once per rule.
  Incremental by customer: a run recomputes the customers of the change set (int_changed_customers) that
  changed since this model's last run, or every customer when one of the rules' thresholds in seed
  poor_experience_rules changed (customers_to_rebuild_for_rules); delete+insert on customer_id replaces their
  rows and the post-hook deletes the rows of those left with no hit. Any other change (this model's SQL):
  --full-refresh. tests/warehouse/test_incremental.py compares the result with a full refresh.
#}
{%- set rule_ids = ['overcharge', 'promo_not_applied', 'unquoted_fee'] %}
with

{{ billing_invoice_lines_in_scope(rule_ids) }}

overcharge_rule as ({{ poor_experience_rule('overcharge') }}),

promo_not_applied_rule as ({{ poor_experience_rule('promo_not_applied') }}),

unquoted_fee_rule as ({{ poor_experience_rule('unquoted_fee') }}),

-- overcharge. The agreed price is the version valid at the period start; a subscription that started later
-- in the period has no such version yet, so its first version's price applies. Two equality joins rather
-- than a row_number() over every line x version pair, which would sort all those pairs.
recurring_lines as {{ cte_not_materialized() }} (

    select *
    from lines_joined_to_invoices
    where line_type = 'RECURRING'

),

recurring_lines_joined_to_prices as (

    select
        recurring_lines.invoice_line_id,
        recurring_lines.invoice_id,
        recurring_lines.subscription_id,
        recurring_lines.amount_minor,
        recurring_lines.currency,
        recurring_lines.invoiced_at,
        coalesce(
            recurring_lines.customer_id, version_in_force.customer_id, first_version.customer_id
        ) as customer_id,
        case
            when version_in_force.subscription_id is not null then version_in_force.monthly_price_minor
            else first_version.monthly_price_minor
        end as monthly_price_minor,
        case
            when version_in_force.subscription_id is not null then version_in_force.currency
            else first_version.currency
        end as price_currency
    from recurring_lines
    inner join subscription_versions as first_version
        on recurring_lines.subscription_id = first_version.subscription_id
        and first_version.version_number = 1
    left join subscription_versions as version_in_force
        on recurring_lines.subscription_id = version_in_force.subscription_id
        and recurring_lines.period_start_at >= version_in_force.valid_from
        and recurring_lines.period_start_at < {{ open_ended('version_in_force.valid_to') }}

),

overcharges as (

    select
        recurring_lines_joined_to_prices.customer_id,
        overcharge_rule.rule_id,
        overcharge_rule.silo,
        overcharge_rule.kind,
        recurring_lines_joined_to_prices.invoiced_at as occurred_at,
        'stg_billing__invoice_lines' as evidence_table,
        recurring_lines_joined_to_prices.invoice_line_id as evidence_id,
        'charged ' || {{ format_money('recurring_lines_joined_to_prices.amount_minor',
            'recurring_lines_joined_to_prices.currency') }}
            || ' against agreed '
            || {{ format_money('recurring_lines_joined_to_prices.monthly_price_minor',
                'recurring_lines_joined_to_prices.price_currency') }}
            as evidence,
        overcharge_rule.threshold as _rule_threshold
    from recurring_lines_joined_to_prices
    cross join overcharge_rule
    where recurring_lines_joined_to_prices.amount_minor
            > recurring_lines_joined_to_prices.monthly_price_minor * (1 + overcharge_rule.threshold / 100.0)

),

-- promo_not_applied. The promo a subscription was sold with is on its first version: later versions may
-- have dropped it.
subscriptions_sold_with_promo as (

    select
        subscription_id,
        customer_id,
        promo_code
    from subscription_versions
    where version_number = 1
        and promo_code is not null
        {% if is_incremental() %}and customer_id in (select customer_id from customers_in_scope){% endif %}

),

-- Only subscriptions sold with a promo need their first invoice. An aggregate rather than a row_number()
-- window, which sorted every recurring line per subscription.
first_invoice_per_subscription as (

    select
        subscription_id,
        {{ min_by_ordered('invoice_id', ['period_start_date', 'invoice_date', 'invoice_id']) }} as invoice_id,
        {{ min_by_ordered('invoiced_at', ['period_start_date', 'invoice_date', 'invoice_id']) }} as invoiced_at
    from recurring_lines
    where subscription_id in (select subscription_id from subscriptions_sold_with_promo)
    group by subscription_id

),

promo_lines as (

    select distinct
        invoice_id,
        promo_code
    from invoice_lines
    where line_type = 'PROMO'

),

promos_not_applied as (

    select
        subscriptions_sold_with_promo.customer_id,
        promo_not_applied_rule.rule_id,
        promo_not_applied_rule.silo,
        promo_not_applied_rule.kind,
        first_invoice_per_subscription.invoiced_at as occurred_at,
        'stg_crm__subscriptions' as evidence_table,
        subscriptions_sold_with_promo.subscription_id as evidence_id,
        'first invoice ' || first_invoice_per_subscription.invoice_id || ' has no PROMO line for '
            || subscriptions_sold_with_promo.promo_code as evidence,
        promo_not_applied_rule.threshold as _rule_threshold
    from subscriptions_sold_with_promo
    inner join first_invoice_per_subscription
        on subscriptions_sold_with_promo.subscription_id = first_invoice_per_subscription.subscription_id
    cross join promo_not_applied_rule
    left join promo_lines
        on first_invoice_per_subscription.invoice_id = promo_lines.invoice_id
        and subscriptions_sold_with_promo.promo_code = promo_lines.promo_code
    where promo_lines.invoice_id is null

),

-- unquoted_fee. Fee quotes; on an incremental run only those of the customers in scope, the only ones it
-- keeps hits of.
contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    where promise_code = 'FEE_QUOTED'
    {% if is_incremental() %}
        and customer_id in (select customer_id from customers_in_scope)
    {% endif %}

),

visit_fee_lines as (

    select *
    from lines_joined_to_invoices
    where fee_code = 'VISIT_FEE'
        and customer_id is not null

),

-- A quote on the invoice day itself still counts as quoted before the bill reached the customer.
quoted_visit_fee_lines as (

    select distinct visit_fee_lines.invoice_line_id
    from visit_fee_lines
    cross join unquoted_fee_rule
    inner join contacts
        on visit_fee_lines.customer_id = contacts.customer_id
        and contacts.contact_at >= {{ dbt.dateadd(
            'day', '-1 * cast(unquoted_fee_rule.threshold as ' ~ dbt.type_int() ~ ')',
            'visit_fee_lines.invoiced_at'
        ) }}
        and contacts.contact_at < {{ dbt.dateadd('day', '1', 'visit_fee_lines.invoiced_at') }}

),

unquoted_fees as (

    select
        visit_fee_lines.customer_id,
        unquoted_fee_rule.rule_id,
        unquoted_fee_rule.silo,
        unquoted_fee_rule.kind,
        visit_fee_lines.invoiced_at as occurred_at,
        'stg_billing__invoice_lines' as evidence_table,
        visit_fee_lines.invoice_line_id as evidence_id,
        'visit fee of ' || {{ format_money('visit_fee_lines.amount_minor', 'visit_fee_lines.currency') }}
            || ' on invoice ' || visit_fee_lines.invoice_id || ' never quoted' as evidence,
        unquoted_fee_rule.threshold as _rule_threshold
    from visit_fee_lines
    cross join unquoted_fee_rule
    left join quoted_visit_fee_lines
        on visit_fee_lines.invoice_line_id = quoted_visit_fee_lines.invoice_line_id
    where quoted_visit_fee_lines.invoice_line_id is null

),

hits as (

    select * from overcharges
    union all
    select * from promos_not_applied
    union all
    select * from unquoted_fees

),

-- A hit naming no customer cannot be part of a journey; unmatched accounts are counted in
-- int_identity_match_summary.
final as (

    select
        hits.customer_id,
        hits.rule_id,
        hits.silo,
        hits.kind,
        hits.occurred_at,
        hits.evidence_table,
        hits.evidence_id,
        hits.evidence,
        warehouse_as_of.loaded_through_at as _loaded_through_at,
        hits._rule_threshold
    from hits
    cross join warehouse_as_of
    where hits.customer_id is not null
        {% if is_incremental() %}and hits.customer_id in (select customer_id from customers_in_scope){% endif %}

)

select * from final
