{{ config(**staging_incremental_config('appointment_id')) }}
with

source as (

    {{ staging_source(source('crm', 'appointments'), 'appointment_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['appointment_id']) }} as delivery_rank
    from source

),

final as (

    select
        appointment_id,
        customer_id,
        subscription_id,
        case_id,
        {{ normalize_code('appointment_type') }} as appointment_type,
        previous_appointment_id,
        {{ to_utc('booked_at') }} as booked_at,
        {{ to_utc('window_start_at') }} as window_start_at,
        {{ to_utc('window_end_at') }} as window_end_at,
        {{ to_utc('arrived_at') }} as arrived_at,
        {{ to_utc('completed_at') }} as completed_at,
        {{ normalize_code('status') }} as status,
        technician_id,
        {{ normalize_code('tech_note_codes') }} as tech_note_codes,
        {{ has_note_code('tech_note_codes', 'MISSING_TOOL') }} as has_missing_tool_note,
        {{ has_note_code('tech_note_codes', 'PROPERTY_DAMAGE') }} as has_property_damage_note,
        nullif(trim(tech_notes), '') as tech_notes,
        {{ staging_bookkeeping_columns(source('crm', 'appointments'), 'ranked_deliveries') }}
    from ranked_deliveries
    where delivery_rank = 1

)

select * from final
