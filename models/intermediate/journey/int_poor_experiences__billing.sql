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
  Incremental by customer: a daily run recomputes the hits of the customers of the change set
  (int_changed_customers) that changed since this model's last run, instead of reading every invoice line
  again. delete+insert replaces all rows of each such customer (unique_key customer_id); the post-hook
  deletes the rows of those left with no hit. Each row keeps the threshold of its rule (_rule_threshold): when
  a billing rule's threshold in seed poor_experience_rules no longer equals the stored one, the run
  recomputes every customer. Any other change (this model's SQL): --full-refresh.
#}
with

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

-- Invoice lines are the biggest input (18M rows at 1M customers) and are read twice: only the columns the
-- rules use (reading every column would about double the model's time),
-- and inlined rather than materialised (cte_not_materialized: no copy of 18M rows to scan).
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

payments as (

    select * from {{ ref('stg_billing__payments') }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

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

billing_rules as (

    select * from {{ ref('poor_experience_rules') }}
    where rule_id in ('promo_not_applied', 'unquoted_fee', 'overcharge', 'company_payment_failure')

),

{% if is_incremental() %}
customers_in_scope as (

    {{ changed_customers_since_last_run() }}

    union

    -- A billing rule's row of seed poor_experience_rules changed since the stored hits were found: everyone.
    select customer_id from {{ ref('int_changed_customers') }}
    where exists (
        select 1
        from {{ this }} as built
        inner join billing_rules
            on built.rule_id = billing_rules.rule_id
        where built._rule_threshold is distinct from cast(billing_rules.threshold as {{ dbt.type_numeric() }})
    )

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

promo_not_applied_rule as ({{ poor_experience_rule('promo_not_applied') }}),

unquoted_fee_rule as ({{ poor_experience_rule('unquoted_fee') }}),

overcharge_rule as ({{ poor_experience_rule('overcharge') }}),

company_payment_failure_rule as ({{ poor_experience_rule('company_payment_failure') }}),

-- The invoice date is a date; poor experiences on it happen at 00:00 UTC of that day. The joined lines are
-- read by three rules: again only the columns the rules use, and inlined like the lines.
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

-- The promo a subscription was sold with is on its first version: later versions may have dropped it.
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
    from lines_joined_to_invoices
    where line_type = 'RECURRING'
        and subscription_id in (select subscription_id from subscriptions_sold_with_promo)
    group by subscription_id

),

promo_lines as (

    select distinct
        invoice_id,
        promo_code
    from invoice_lines
    where line_type = 'PROMO'
    {% if is_incremental() %}
        and invoice_id in (select invoice_id from invoices_in_scope)
    {% endif %}

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
            || subscriptions_sold_with_promo.promo_code as evidence
    from subscriptions_sold_with_promo
    inner join first_invoice_per_subscription
        on subscriptions_sold_with_promo.subscription_id = first_invoice_per_subscription.subscription_id
    cross join promo_not_applied_rule
    left join promo_lines
        on first_invoice_per_subscription.invoice_id = promo_lines.invoice_id
        and subscriptions_sold_with_promo.promo_code = promo_lines.promo_code
    where promo_lines.invoice_id is null

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
        and contacts.promise_code = 'FEE_QUOTED'
        and contacts.contact_at >= {{ dbt.dateadd(
            'day', '-1 * cast(unquoted_fee_rule.threshold as ' ~ dbt.type_int() ~ ')', 'visit_fee_lines.invoiced_at'
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
            || ' on invoice ' || visit_fee_lines.invoice_id || ' never quoted' as evidence
    from visit_fee_lines
    cross join unquoted_fee_rule
    left join quoted_visit_fee_lines
        on visit_fee_lines.invoice_line_id = quoted_visit_fee_lines.invoice_line_id
    where quoted_visit_fee_lines.invoice_line_id is null

),

-- The agreed price is the version valid at the period start; a subscription that started later in the
-- period has no such version yet, so its first version's price applies. Two equality joins rather than a
-- row_number() over every line x version pair, which would sort all those pairs (the first-invoice
-- aggregate above avoids the same sort).
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
            as evidence
    from recurring_lines_joined_to_prices
    cross join overcharge_rule
    where recurring_lines_joined_to_prices.amount_minor
            > recurring_lines_joined_to_prices.monthly_price_minor * (1 + overcharge_rule.threshold / 100.0)

),

company_payment_failures as (

    select
        accounts.customer_id,
        company_payment_failure_rule.rule_id,
        company_payment_failure_rule.silo,
        company_payment_failure_rule.kind,
        payments.attempted_at as occurred_at,
        'stg_billing__payments' as evidence_table,
        payments.payment_id as evidence_id,
        'payment failed: ' || payments.failure_code as evidence
    from payments
    inner join accounts
        on payments.account_number = accounts.account_number
    cross join company_payment_failure_rule
    where payments.status = 'FAILED'
        and payments.is_company_caused
        {% if is_incremental() %}and accounts.customer_id in (select customer_id from customers_in_scope){% endif %}

),

hits as (

    select * from promos_not_applied
    union all
    select * from unquoted_fees
    union all
    select * from overcharges
    union all
    select * from company_payment_failures

),

-- A hit naming no customer (a payment failure on an account matched to nobody) cannot be part of a journey;
-- unmatched accounts are counted in int_identity_match_summary.
final as (

    select
        hits.*,
        warehouse_as_of.loaded_through_at as _loaded_through_at,
        cast(billing_rules.threshold as {{ dbt.type_numeric() }}) as _rule_threshold
    from hits
    cross join warehouse_as_of
    inner join billing_rules
        on hits.rule_id = billing_rules.rule_id
    where hits.customer_id is not null
        {% if is_incremental() %}and hits.customer_id in (select customer_id from customers_in_scope){% endif %}

)

select * from final
