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

{{ billing_invoice_lines_in_scope('overcharge') }}

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
