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
  Poor-experience rule hits for company_payment_failure: a failed payment the company caused; the
  customer comes through the billing account match. Grain: one row per payment.
  Incremental by customer: a run recomputes the customers of the change set (int_changed_customers) that
  changed since this model's last run, or every customer when the rule's threshold in seed
  poor_experience_rules changed (customers_to_rebuild_for_rule); delete+insert on customer_id replaces their
  rows and the post-hook deletes the rows of those left with no hit. Any other change (this model's SQL):
  --full-refresh. tests/warehouse/test_incremental.py compares the result with a full refresh.
#}
with

{% if is_incremental() %}
customers_in_scope as (

    {{ customers_to_rebuild_for_rule('company_payment_failure') }}

),

-- The accounts of the customers in scope: their payments only meet the accounts.
accounts_in_scope as (

    select account_number
    from {{ ref('int_billing_accounts_matched_to_customers') }}
    where customer_id in (select customer_id from customers_in_scope)

),
{% endif %}

payments as (

    select * from {{ ref('stg_billing__payments') }}
    {% if is_incremental() %}
    where account_number in (select account_number from accounts_in_scope)
    {% endif %}

),

accounts as (

    select * from {{ ref('int_billing_accounts_matched_to_customers') }}

),

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

billing_rule as ({{ poor_experience_rule('company_payment_failure') }}),

company_payment_failures as (

    select
        accounts.customer_id,
        billing_rule.rule_id,
        billing_rule.silo,
        billing_rule.kind,
        payments.attempted_at as occurred_at,
        'stg_billing__payments' as evidence_table,
        payments.payment_id as evidence_id,
        'payment failed: ' || payments.failure_code as evidence
    from payments
    inner join accounts
        on payments.account_number = accounts.account_number
    cross join billing_rule
    where payments.status = 'FAILED'
        and payments.is_company_caused

),

-- A hit naming no customer cannot be part of a journey; unmatched accounts are counted in
-- int_identity_match_summary.
final as (

    select
        company_payment_failures.*,
        warehouse_as_of.loaded_through_at as _loaded_through_at,
        billing_rule.threshold as _rule_threshold
    from company_payment_failures
    cross join warehouse_as_of
    cross join billing_rule
    where company_payment_failures.customer_id is not null
        {% if is_incremental() %}and company_payment_failures.customer_id in (select customer_id from customers_in_scope){% endif %}

)

select * from final
