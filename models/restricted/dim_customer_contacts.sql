{{ config(schema='restricted', materialized='table') }}
-- Direct identifiers of each customer, kept out of the analytical marts: the marts reach a person only
-- through customer_id. Built into the `restricted` schema, which the publication leaves out unless
-- PUBLISH_PERSONAL_DATA asks for it (and then into a separate owner-only file).
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

final as (
    select
        customer_id,
        email,
        full_name
    from customers
)

select * from final
