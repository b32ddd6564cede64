-- A poor experience is part of a customer's journey, so none can precede the customer's sign-up day
-- (a hit before it means a time column or a join is wrong).
-- Reads several models: Dagster attaches it as an asset check of the model it guards (dagster-dbt reads
-- meta.dagster.ref; without it a test with several parents is no check of any asset).
{{ config(meta={'dagster': {'ref': {'name': 'int_poor_experiences'}}}) }}
with

poor_experiences as (

    select * from {{ ref('int_poor_experiences') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

final as (

    select
        poor_experiences.poor_experience_id,
        poor_experiences.occurred_at,
        customers.signed_up_at
    from poor_experiences
    inner join customers
        on poor_experiences.customer_id = customers.customer_id
    where cast(poor_experiences.occurred_at as date) < cast(customers.signed_up_at as date)

)

select * from final
