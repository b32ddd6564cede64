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
  Poor-experience rule hits for overcharge: a recurring line above the agreed monthly price by more
  than the threshold (percent). Grain: one row per invoice line.
  Incremental by customer: a run recomputes the customers of the change set (int_changed_customers) that
  changed since this model's last run, or every customer when the rule's threshold in seed
  poor_experience_rules changed (customers_to_rebuild_for_rule); delete+insert on customer_id replaces their
  rows and the post-hook deletes the rows of those left with no hit. Any other change (this model's SQL):
  --full-refresh. tests/warehouse/test_incremental.py compares the result with a full refresh.
#}
with

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

-- Invoice lines are the biggest input: only the columns the rules use, inlined rather than materialised
-- (cte_not_materialized: no copy of every line to scan).
invoice_lines as {{ cte_not_materialized() }} (

    select
        invoice_line_id,
        invoice_id,
        subscription_id,
        line_type,
        fee_code,
        promo_code,
        amount_minor
    from {{ ref('stg_billing__invoice_lines') }}

),

accounts as (

    select * from {{ ref('int_billing_accounts_matched_to_customers') }}

),

subscription_versions as (

    select * from {{ ref('int_subscription_versions') }}

),

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

{% if is_incremental() %}
customers_in_scope as (

    {{ customers_to_rebuild_for_rule('overcharge') }}

),

-- The invoices whose lines can give a hit to a customer in scope: theirs, and those billing a line of one
-- of their subscriptions (its first invoice, or an invoice of an account matched to nobody).
invoices_in_scope as (

    select invoices.invoice_id
    from {{ ref('stg_billing__invoices') }} as invoices
    inner join accounts
        on invoices.account_number = accounts.account_number
    where accounts.customer_id in (select customer_id from customers_in_scope)

    union

    select invoice_id
    from {{ ref('stg_billing__invoice_lines') }}
    where subscription_id in (
        select subscription_id from subscription_versions
        where customer_id in (select customer_id from customers_in_scope)
    )

),
{% endif %}

billing_rule as ({{ poor_experience_rule('overcharge') }}),

-- The invoice date is a date; poor experiences on it happen at 00:00 UTC of that day. The joined lines are
-- inlined like the lines (only the columns the rules use).
invoices_joined_to_customers as (

    select
        invoices.invoice_id,
        invoices.invoice_date,
        invoices.period_start_date,
        cast(invoices.invoice_date as {{ dbt.type_timestamp() }}) as invoiced_at,
        cast(invoices.period_start_date as {{ dbt.type_timestamp() }}) as period_start_at,
        invoices.currency,
        accounts.customer_id
    from invoices
    left join accounts
        on invoices.account_number = accounts.account_number
    {% if is_incremental() %}
    where invoices.invoice_id in (select invoice_id from invoices_in_scope)
    {% endif %}

),

lines_joined_to_invoices as {{ cte_not_materialized() }} (

    select
        invoice_lines.invoice_line_id,
        invoice_lines.invoice_id,
        invoice_lines.subscription_id,
        invoice_lines.line_type,
        invoice_lines.fee_code,
        invoice_lines.amount_minor,
        invoices_joined_to_customers.customer_id,
        invoices_joined_to_customers.invoice_date,
        invoices_joined_to_customers.invoiced_at,
        invoices_joined_to_customers.period_start_date,
        invoices_joined_to_customers.period_start_at,
        invoices_joined_to_customers.currency
    from invoice_lines
    inner join invoices_joined_to_customers
        on invoice_lines.invoice_id = invoices_joined_to_customers.invoice_id

),

-- The agreed price is the version valid at the period start; a subscription that started later in the
-- period has no such version yet, so its first version's price applies. Two equality joins rather than a
-- row_number() over every line x version pair, which would sort all those pairs.
recurring_lines as (

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
        billing_rule.rule_id,
        billing_rule.silo,
        billing_rule.kind,
        recurring_lines_joined_to_prices.invoiced_at as occurred_at,
        'stg_billing__invoice_lines' as evidence_table,
        recurring_lines_joined_to_prices.invoice_line_id as evidence_id,
        'charged ' || {{ format_money('recurring_lines_joined_to_prices.amount_minor',
            'recurring_lines_joined_to_prices.currency') }}
            || ' against agreed '
            || {{ format_money('recurring_lines_joined_to_prices.monthly_price_minor',
                'recurring_lines_joined_to_prices.price_currency') }}
            as evidence
    from recurring_lines_joined_to_prices
    cross join billing_rule
    where recurring_lines_joined_to_prices.amount_minor
            > recurring_lines_joined_to_prices.monthly_price_minor * (1 + billing_rule.threshold / 100.0)

),

-- A hit naming no customer cannot be part of a journey; unmatched accounts are counted in
-- int_identity_match_summary.
final as (

    select
        overcharges.*,
        warehouse_as_of.loaded_through_at as _loaded_through_at,
        billing_rule.threshold as _rule_threshold
    from overcharges
    cross join warehouse_as_of
    cross join billing_rule
    where overcharges.customer_id is not null
        {% if is_incremental() %}and overcharges.customer_id in (select customer_id from customers_in_scope){% endif %}

)

select * from final
