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
  Poor-experience rule hits for unquoted_fee: a visit fee on an invoice with no FEE_QUOTED contact in
  the threshold's days before the invoice day. Grain: one row per invoice line.
  Incremental by customer: a run recomputes the customers of the change set (int_changed_customers) that
  changed since this model's last run, or every customer when the rule's threshold in seed
  poor_experience_rules changed (customers_to_rebuild_for_rule); delete+insert on customer_id replaces their
  rows and the post-hook deletes the rows of those left with no hit. Any other change (this model's SQL):
  --full-refresh. tests/warehouse/test_incremental.py compares the result with a full refresh.
#}
with

{{ billing_invoice_lines_in_scope('unquoted_fee') }}

-- Fee quotes; on an incremental run only those of the customers in scope, the only ones it keeps hits of.
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
    cross join billing_rule
    inner join contacts
        on visit_fee_lines.customer_id = contacts.customer_id
        and contacts.promise_code = 'FEE_QUOTED'
        and contacts.contact_at >= {{ dbt.dateadd(
            'day', '-1 * cast(billing_rule.threshold as ' ~ dbt.type_int() ~ ')', 'visit_fee_lines.invoiced_at'
        ) }}
        and contacts.contact_at < {{ dbt.dateadd('day', '1', 'visit_fee_lines.invoiced_at') }}

),

unquoted_fees as (

    select
        visit_fee_lines.customer_id,
        billing_rule.rule_id,
        billing_rule.silo,
        billing_rule.kind,
        visit_fee_lines.invoiced_at as occurred_at,
        'stg_billing__invoice_lines' as evidence_table,
        visit_fee_lines.invoice_line_id as evidence_id,
        'visit fee of ' || {{ format_money('visit_fee_lines.amount_minor', 'visit_fee_lines.currency') }}
            || ' on invoice ' || visit_fee_lines.invoice_id || ' never quoted' as evidence
    from visit_fee_lines
    cross join billing_rule
    left join quoted_visit_fee_lines
        on visit_fee_lines.invoice_line_id = quoted_visit_fee_lines.invoice_line_id
    where quoted_visit_fee_lines.invoice_line_id is null

),

-- A hit naming no customer cannot be part of a journey; unmatched accounts are counted in
-- int_identity_match_summary.
final as (

    select
        unquoted_fees.*,
        warehouse_as_of.loaded_through_at as _loaded_through_at,
        billing_rule.threshold as _rule_threshold
    from unquoted_fees
    cross join warehouse_as_of
    cross join billing_rule
    where unquoted_fees.customer_id is not null
        {% if is_incremental() %}and unquoted_fees.customer_id in (select customer_id from customers_in_scope){% endif %}

)

select * from final
