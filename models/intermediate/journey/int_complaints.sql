with

cases as (

    select * from {{ ref('stg_crm__cases') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

complaint_cases as (

    select *
    from cases
    where case_type = 'COMPLAINT'

),

final as (

    select
        complaint_cases.case_id as complaint_id,
        complaint_cases.customer_id,
        complaint_cases.opened_at as complained_at,
        cast(complaint_cases.opened_at as date) as complained_date,
        complaint_cases.channel,
        complaint_cases.closed_at,
        complaint_cases.resolution_code,
        coalesce(
            complaint_cases.resolution_code in ('RESOLVED', 'CREDITED')
            and complaint_cases.closed_at <= {{ dbt.dateadd(
                'day', var('complaint_handled_days'), 'complaint_cases.opened_at'
            ) }},
            false
        ) as is_handled_well,
        customers.customer_id is not null as has_known_customer
    from complaint_cases
    left join customers
        on complaint_cases.customer_id = customers.customer_id

)

select * from final
