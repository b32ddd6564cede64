-- Lifetime billed and paid in dim_customers add up to the staging invoices and successful payments of every
-- billing account matched to a known customer. Returns one row when either total differs.
-- Reads several models: Dagster attaches it as an asset check of the model it guards (dagster-dbt reads
-- meta.dagster.ref; without it a test with several parents is no check of any asset).
{{ config(meta={'dagster': {'ref': {'name': 'dim_customers'}}}) }}
with

dim_totals as (
    select
        sum(lifetime_billed_minor) as billed_minor,
        sum(lifetime_paid_minor) as paid_minor
    from {{ ref('dim_customers') }}
),

known_accounts as (
    select accounts.account_number
    from {{ ref('int_billing_accounts_matched_to_customers') }} as accounts
    inner join {{ ref('stg_crm__customers') }} as customers
        on accounts.customer_id = customers.customer_id
),

staging_billed as (
    select coalesce(sum(invoices.total_minor), 0) as billed_minor
    from {{ ref('stg_billing__invoices') }} as invoices
    where invoices.account_number in (select account_number from known_accounts)
),

staging_paid as (
    select coalesce(sum(payments.amount_minor), 0) as paid_minor
    from {{ ref('stg_billing__payments') }} as payments
    where payments.account_number in (select account_number from known_accounts)
        and upper(payments.status) = 'SUCCEEDED'
),

final as (
    select
        dim_totals.billed_minor as dim_billed_minor,
        staging_billed.billed_minor as staging_billed_minor,
        dim_totals.paid_minor as dim_paid_minor,
        staging_paid.paid_minor as staging_paid_minor
    from dim_totals
    cross join staging_billed
    cross join staging_paid
    where coalesce(dim_totals.billed_minor, 0) != staging_billed.billed_minor
        or coalesce(dim_totals.paid_minor, 0) != staging_paid.paid_minor
)

select * from final
