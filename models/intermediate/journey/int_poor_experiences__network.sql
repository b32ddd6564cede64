with

cases as (

    select * from {{ ref('stg_crm__cases') }}

),

service_fault_rule as ({{ poor_experience_rule('service_fault') }}),

final as (

    select
        cases.customer_id,
        service_fault_rule.rule_id,
        service_fault_rule.silo,
        service_fault_rule.kind,
        cases.opened_at as occurred_at,
        'stg_crm__cases' as evidence_table,
        cases.case_id as evidence_id,
        'service fault case opened via ' || cases.channel as evidence
    from cases
    cross join service_fault_rule
    where cases.case_type = 'SERVICE_FAULT'

)

select * from final
