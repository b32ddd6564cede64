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
-- What each customer was billed and paid over their lifetime, summed over the invoices and payments of the
-- billing accounts matched to them: the customer dimension joins one row per customer instead of summing
-- every invoice and payment on every build. Incremental by customer: a run rebuilds the customers of the
-- change set (int_changed_customers) that changed since this model's last run, which names the customers of
-- restaged invoices, payments and accounts and of re-matched accounts.
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

matched_accounts as (
    select account_number, customer_id
    from {{ ref('int_billing_accounts_matched_to_customers') }}
    where customer_id is not null
    {% if is_incremental() %}
        and customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

invoices as (
    select account_number, total_minor
    from {{ ref('stg_billing__invoices') }}
    {% if is_incremental() %}
    where account_number in (select account_number from matched_accounts)
    {% endif %}
),

payments as (
    select account_number, amount_minor
    from {{ ref('stg_billing__payments') }}
    where upper(status) = 'SUCCEEDED'
    {% if is_incremental() %}
        and account_number in (select account_number from matched_accounts)
    {% endif %}
),

-- Summed per account before the join, so the invoices and payments join their customer as one row per
-- account instead of one per invoice or payment.
billed_per_account as (
    select account_number, sum(total_minor) as billed_minor
    from invoices
    group by account_number
),

paid_per_account as (
    select account_number, sum(amount_minor) as paid_minor
    from payments
    group by account_number
),

billed as (
    select matched_accounts.customer_id, sum(billed_per_account.billed_minor) as lifetime_billed_minor
    from billed_per_account
    inner join matched_accounts
        on billed_per_account.account_number = matched_accounts.account_number
    group by matched_accounts.customer_id
),

paid as (
    select matched_accounts.customer_id, sum(paid_per_account.paid_minor) as lifetime_paid_minor
    from paid_per_account
    inner join matched_accounts
        on paid_per_account.account_number = matched_accounts.account_number
    group by matched_accounts.customer_id
),

customers_billed_or_paid as (
    select customer_id from billed
    union
    select customer_id from paid
),

final as (
    select
        customers_billed_or_paid.customer_id,
        cast(billed.lifetime_billed_minor as {{ dbt.type_bigint() }}) as lifetime_billed_minor,
        cast(paid.lifetime_paid_minor as {{ dbt.type_bigint() }}) as lifetime_paid_minor,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from customers_billed_or_paid
    left join billed
        on customers_billed_or_paid.customer_id = billed.customer_id
    left join paid
        on customers_billed_or_paid.customer_id = paid.customer_id
    cross join warehouse_as_of
)

select * from final
