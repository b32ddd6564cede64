{{ config(**staging_incremental_config('invoice_line_id')) }}
with

source as (

    {{ staging_source(source('billing', 'invoice_lines'), 'invoice_line_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['invoice_line_id']) }} as delivery_rank
    from source

),

final as (

    select
        invoice_line_id,
        invoice_id,
        {{ normalize_code('line_type') }} as line_type_code,
        case
            when {{ normalize_code('line_type') }} in ('RECURRING', 'ONE_TIME_FEE', 'EQUIPMENT', 'DISCOUNT', 'PROMO')
                then {{ normalize_code('line_type') }}
            else 'UNKNOWN'
        end as line_type,
        subscription_id,
        {{ normalize_code('fee_code') }} as fee_code,
        {{ normalize_code('promo_code') }} as promo_code,
        nullif(trim(description), '') as description,
        cast(amount_minor as {{ dbt.type_bigint() }}) as amount_minor,
        cast(tax_minor as {{ dbt.type_bigint() }}) as tax_minor,
        {{ staging_bookkeeping_columns(source('billing', 'invoice_lines'), 'ranked_deliveries') }}
    from ranked_deliveries
    where delivery_rank = 1

)

select * from final
