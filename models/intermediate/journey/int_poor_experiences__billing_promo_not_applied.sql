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
  Poor-experience rule hits for promo_not_applied: a subscription sold with a promo whose first invoice
  has no PROMO line for it. Grain: one row per subscription.
  Incremental by customer: a run recomputes the customers of the change set (int_changed_customers) that
  changed since this model's last run, or every customer when the rule's threshold in seed
  poor_experience_rules changed (customers_to_rebuild_for_rule); delete+insert on customer_id replaces their
  rows and the post-hook deletes the rows of those left with no hit. Any other change (this model's SQL):
  --full-refresh. tests/warehouse/test_incremental.py compares the result with a full refresh.
#}
with

{{ billing_invoice_lines_in_scope('promo_not_applied') }}

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

),

promos_not_applied as (

    select
        subscriptions_sold_with_promo.customer_id,
        billing_rule.rule_id,
        billing_rule.silo,
        billing_rule.kind,
        first_invoice_per_subscription.invoiced_at as occurred_at,
        'stg_crm__subscriptions' as evidence_table,
        subscriptions_sold_with_promo.subscription_id as evidence_id,
        'first invoice ' || first_invoice_per_subscription.invoice_id || ' has no PROMO line for '
            || subscriptions_sold_with_promo.promo_code as evidence
    from subscriptions_sold_with_promo
    inner join first_invoice_per_subscription
        on subscriptions_sold_with_promo.subscription_id = first_invoice_per_subscription.subscription_id
    cross join billing_rule
    left join promo_lines
        on first_invoice_per_subscription.invoice_id = promo_lines.invoice_id
        and subscriptions_sold_with_promo.promo_code = promo_lines.promo_code
    where promo_lines.invoice_id is null

),

-- A hit naming no customer cannot be part of a journey; unmatched accounts are counted in
-- int_identity_match_summary.
final as (

    select
        promos_not_applied.*,
        warehouse_as_of.loaded_through_at as _loaded_through_at,
        billing_rule.threshold as _rule_threshold
    from promos_not_applied
    cross join warehouse_as_of
    cross join billing_rule
    where promos_not_applied.customer_id is not null
        {% if is_incremental() %}and promos_not_applied.customer_id in (select customer_id from customers_in_scope){% endif %}

)

select * from final
