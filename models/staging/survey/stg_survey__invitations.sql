{{ config(**staging_incremental_config('invitation_id')) }}
with

source as (

    {{ staging_source(source('survey', 'invitations'), 'invitation_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['invitation_id']) }} as delivery_rank
    from source

),

final as (

    select
        invitation_id,
        survey_id,
        {{ normalize_email('email') }} as email,
        {{ to_utc('sent_at') }} as sent_at,
        {{ normalize_code('trigger_type') }} as trigger_type,
        trigger_id,
        {{ staging_bookkeeping_columns(source('survey', 'invitations'), 'ranked_deliveries') }}
    from ranked_deliveries
    where delivery_rank = 1

)

select * from final
