{{ config(**staging_incremental_config('response_id')) }}
with

source as (

    {{ staging_source(source('survey', 'responses'), 'response_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['response_id']) }} as delivery_rank
    from source

),

final as (

    select
        response_id,
        invitation_id,
        survey_id,
        {{ normalize_email('email') }} as email,
        {{ to_utc('responded_at') }} as responded_at,
        cast(score as integer) as score,
        nullif(trim(comment), '') as comment,
        {{ staging_bookkeeping_columns(source('survey', 'responses'), 'ranked_deliveries') }}
    from ranked_deliveries
    where delivery_rank = 1

)

select * from final
