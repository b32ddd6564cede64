{{ config(**staging_incremental_config('campaign_id')) }}
with

source as (

    {{ staging_source(source('crm', 'campaigns'), 'campaign_id') }}

),

-- Campaign versions only matter for their latest terms, so staging keeps the latest delivered version.
ranked as (

    select
        *,
        {{ delivery_rank(['campaign_id'], latest_first=[to_utc('updated_at')]) }} as version_rank
    from source

),

final as (

    select
        campaign_id,
        trim(campaign_name) as campaign_name,
        {{ normalize_code('channel') }} as acquisition_channel,
        {{ normalize_code('offer_code') }} as offer_code,
        {{ normalize_code('promised_plan_code') }} as promised_plan_code,
        cast(promised_monthly_price_minor as {{ dbt.type_bigint() }}) as promised_monthly_price_minor,
        {{ normalize_code('currency') }} as currency,
        cast(starts_on as date) as starts_on,
        cast(ends_on as date) as ends_on,
        {{ to_utc('updated_at') }} as updated_at,
        {{ staging_bookkeeping_columns(source('crm', 'campaigns'), 'ranked') }}
    from ranked
    where version_rank = 1

)

select * from final
