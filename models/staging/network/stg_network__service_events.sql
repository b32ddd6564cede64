{{ config(**staging_incremental_config('event_id')) }}
with

source as (

    {{ staging_source(source('network', 'service_events'), 'event_id') }}

),

-- An event is exported when it starts and again when it ends: the latest version carries the end.
ranked as (

    select
        *,
        {{ delivery_rank(['event_id'], latest_first=[to_utc('updated_at')]) }} as version_rank
    from source

),

final as (

    select
        ranked.event_id,
        ranked.customer_id,
        {{ normalize_code('ranked.event_type') }} as event_type,
        lower(trim(ranked.product)) as product,
        ranked.service_area,
        {{ to_utc('ranked.started_at') }} as started_at,
        {{ to_utc('ranked.ended_at') }} as ended_at,
        {{ to_utc('ranked.updated_at') }} as updated_at,
        {{ staging_bookkeeping_columns(source('network', 'service_events'), 'ranked') }}
    from ranked
    where ranked.version_rank = 1

)

select * from final
