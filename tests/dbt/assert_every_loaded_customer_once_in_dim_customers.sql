-- Every customer the CRM delivered appears exactly once in dim_customers. Returns the customers that are
-- missing or duplicated. A subscription may arrive before its customer's row (a late arrival): that is a
-- warning of the subscription's relationship test, not a failure here, since the customer is not loaded yet.
-- Reads several models: Dagster attaches it as an asset check of the model it guards (dagster-dbt reads
-- meta.dagster.ref; without it a test with several parents is no check of any asset).
{{ config(meta={'dagster': {'ref': {'name': 'dim_customers'}}}) }}
with

loaded_customers as (
    select distinct customer_id from {{ ref('stg_crm__customers') }}
),

dim_counts as (
    select customer_id, count(*) as n_rows
    from {{ ref('dim_customers') }}
    group by customer_id
),

final as (
    select
        loaded_customers.customer_id,
        coalesce(dim_counts.n_rows, 0) as n_rows_in_dim
    from loaded_customers
    left join dim_counts
        on loaded_customers.customer_id = dim_counts.customer_id
    where coalesce(dim_counts.n_rows, 0) != 1
)

select * from final
