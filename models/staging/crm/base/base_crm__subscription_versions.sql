{{ config(**staging_incremental_config(['subscription_id', 'updated_at'])) }}
with

source as (

    {{ staging_source(source('crm', 'subscriptions'), ['subscription_id', 'updated_at'], source_key=['subscription_id', to_utc('updated_at')]) }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['subscription_id', to_utc('updated_at')]) }} as delivery_rank
    from source

),

deduplicated as (

    select * from ranked_deliveries
    where delivery_rank = 1

),

plans as (

    select * from {{ ref('plans') }}

),

cleaned as (

    select
        subscription_id,
        customer_id,
        bundle_id,
        {{ normalize_code('product') }} as product,
        {{ normalize_code('plan_code') }} as plan_code,
        {{ normalize_code('contract_type') }} as contract_type,
        cast(contract_ends_on as date) as contract_ends_on,
        cast(monthly_price_minor as {{ dbt.type_bigint() }}) as monthly_price_minor,
        {{ normalize_code('currency') }} as currency,
        {{ normalize_code('promo_code') }} as promo_code,
        {{ normalize_code('status') }} as status,
        {{ to_utc('started_at') }} as started_at,
        {{ to_utc('cancelled_at') }} as cancelled_at,
        {{ normalize_code('cancel_type') }} as cancel_type,
        {{ normalize_code('cancel_reason_code') }} as cancel_reason_code,
        nullif(trim(cancel_reason_text), '') as cancel_reason_text,
        {{ to_utc('updated_at') }} as updated_at,
        {{ staging_bookkeeping_columns(source('crm', 'subscriptions'), 'deduplicated') }}
    from deduplicated

),

final as (

    select
        cleaned.*,
        plans.tier as plan_tier
    from cleaned
    left join plans
        on cleaned.plan_code = plans.plan_code

)

select * from final
