{{ config(**staging_incremental_config('adjustment_id')) }}
with

source as (

    {{ staging_source(source('billing', 'adjustments'), 'adjustment_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['adjustment_id']) }} as delivery_rank
    from source

),

final as (

    select
        adjustment_id,
        account_number,
        invoice_id,
        {{ to_utc('created_at') }} as created_at,
        cast(amount_minor as {{ dbt.type_bigint() }}) as amount_minor,
        {{ normalize_code('currency') }} as currency,
        {{ normalize_code('reason_code') }} as reason_code,
        {{ staging_bookkeeping_columns(source('billing', 'adjustments'), 'ranked_deliveries') }}
    from ranked_deliveries
    where delivery_rank = 1

)

select * from final
