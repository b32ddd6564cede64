-- Every customer the CRM delivered (as a customer or as the owner of a subscription) appears exactly once in
-- dim_customers. Returns the customers that are missing or duplicated.
with

loaded_customers as (
    select customer_id from {{ ref('stg_crm__customers') }}
    union
    select customer_id from {{ ref('int_subscription_versions') }}
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
