{{ config(**staging_incremental_config('case_id')) }}
with

source as (

    {{ staging_source(source('crm', 'cases'), 'case_id') }}

),

-- A case is exported when opened and again when closed: the latest version carries the outcome.
ranked as (

    select
        *,
        {{ delivery_rank(['case_id'], latest_first=[to_utc('updated_at')]) }} as version_rank
    from source

),

channel_codes as (

    select * from {{ ref('channel_codes') }}

),

final as (

    select
        ranked.case_id,
        ranked.customer_id,
        {{ normalize_code('ranked.case_type') }} as case_type,
        {{ normalize_code('ranked.channel') }} as channel_code,
        coalesce(channel_codes.channel, 'unknown') as channel,
        {{ to_utc('ranked.opened_at') }} as opened_at,
        {{ to_utc('ranked.closed_at') }} as closed_at,
        {{ normalize_code('ranked.resolution_code') }} as resolution_code,
        {{ to_utc('ranked.updated_at') }} as updated_at,
        {{ staging_bookkeeping_columns(source('crm', 'cases'), 'ranked') }}
    from ranked
    left join channel_codes
        on {{ normalize_code('ranked.channel') }} = channel_codes.source_code
    where ranked.version_rank = 1

)

select * from final
