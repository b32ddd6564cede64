{{ config(**staging_incremental_config('survey_id')) }}
with

source as (

    {{ staging_source(source('survey', 'surveys'), 'survey_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['survey_id']) }} as delivery_rank
    from source

),

final as (

    select
        survey_id,
        {{ normalize_code('survey_type') }} as survey_type,
        cast(scale_min as integer) as scale_min,
        cast(scale_max as integer) as scale_max,
        nullif(trim(question), '') as question,
        {{ staging_bookkeeping_columns(source('survey', 'surveys'), 'ranked_deliveries') }}
    from ranked_deliveries
    where delivery_rank = 1

)

select * from final
