with

appointments as (

    select * from {{ ref('stg_crm__appointments') }}

),

late_arrival_rule as ({{ poor_experience_rule('late_arrival') }}),

no_show_rule as ({{ poor_experience_rule('no_show') }}),

repeat_visit_rule as ({{ poor_experience_rule('repeat_visit') }}),

missing_tool_rule as ({{ poor_experience_rule('missing_tool') }}),

property_damage_rule as ({{ poor_experience_rule('property_damage') }}),

late_arrivals as (

    select
        appointments.customer_id,
        late_arrival_rule.rule_id,
        late_arrival_rule.silo,
        late_arrival_rule.kind,
        appointments.arrived_at as occurred_at,
        'stg_crm__appointments' as evidence_table,
        appointments.appointment_id as evidence_id,
        'arrived '
            || cast({{ dbt.datediff('appointments.window_end_at', 'appointments.arrived_at', 'minute') }}
                as {{ dbt.type_string() }})
            || ' min after window' as evidence
    from appointments
    cross join late_arrival_rule
    where appointments.arrived_at > {{ dbt.dateadd(
        'minute', 'cast(late_arrival_rule.threshold as ' ~ dbt.type_int() ~ ')', 'appointments.window_end_at'
    ) }}

),

no_shows as (

    select
        appointments.customer_id,
        no_show_rule.rule_id,
        no_show_rule.silo,
        no_show_rule.kind,
        appointments.window_end_at as occurred_at,
        'stg_crm__appointments' as evidence_table,
        appointments.appointment_id as evidence_id,
        'nobody came in the promised window' as evidence
    from appointments
    cross join no_show_rule
    where appointments.status = 'NO_SHOW'

),

-- The earlier visit counts as done when it completed; a follow-up soon after means it did not fix things.
follow_ups_joined_to_previous as (

    select
        follow_ups.appointment_id,
        follow_ups.customer_id,
        follow_ups.window_start_at,
        previous.appointment_id as previous_appointment_id,
        coalesce(previous.completed_at, previous.arrived_at, previous.window_end_at) as previous_done_at
    from appointments as follow_ups
    inner join appointments as previous
        on follow_ups.previous_appointment_id = previous.appointment_id
    where previous.status = 'COMPLETED'

),

repeat_visits as (

    select
        follow_ups_joined_to_previous.customer_id,
        repeat_visit_rule.rule_id,
        repeat_visit_rule.silo,
        repeat_visit_rule.kind,
        follow_ups_joined_to_previous.window_start_at as occurred_at,
        'stg_crm__appointments' as evidence_table,
        follow_ups_joined_to_previous.appointment_id as evidence_id,
        'follows up completed visit ' || follow_ups_joined_to_previous.previous_appointment_id as evidence
    from follow_ups_joined_to_previous
    cross join repeat_visit_rule
    where follow_ups_joined_to_previous.window_start_at <= {{ dbt.dateadd(
        'day', 'cast(repeat_visit_rule.threshold as ' ~ dbt.type_int() ~ ')',
        'follow_ups_joined_to_previous.previous_done_at'
    ) }}

),

missing_tools as (

    select
        appointments.customer_id,
        missing_tool_rule.rule_id,
        missing_tool_rule.silo,
        missing_tool_rule.kind,
        coalesce(appointments.arrived_at, appointments.window_end_at) as occurred_at,
        'stg_crm__appointments' as evidence_table,
        appointments.appointment_id as evidence_id,
        'work order notes MISSING_TOOL' as evidence
    from appointments
    cross join missing_tool_rule
    where appointments.has_missing_tool_note

),

property_damages as (

    select
        appointments.customer_id,
        property_damage_rule.rule_id,
        property_damage_rule.silo,
        property_damage_rule.kind,
        coalesce(appointments.arrived_at, appointments.window_end_at) as occurred_at,
        'stg_crm__appointments' as evidence_table,
        appointments.appointment_id as evidence_id,
        'work order notes PROPERTY_DAMAGE' as evidence
    from appointments
    cross join property_damage_rule
    where appointments.has_property_damage_note

),

final as (

    select * from late_arrivals
    union all
    select * from no_shows
    union all
    select * from repeat_visits
    union all
    select * from missing_tools
    union all
    select * from property_damages

)

select * from final
