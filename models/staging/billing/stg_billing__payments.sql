{{ config(**staging_incremental_config('payment_id')) }}
with

source as (

    {{ staging_source(source('billing', 'payments'), 'payment_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['payment_id']) }} as delivery_rank
    from source

),

payment_failure_codes as (

    select * from {{ ref('payment_failure_codes') }}

),

final as (

    select
        ranked_deliveries.payment_id,
        ranked_deliveries.account_number,
        ranked_deliveries.invoice_id,
        {{ to_utc('ranked_deliveries.attempted_at') }} as attempted_at,
        cast(ranked_deliveries.amount_minor as {{ dbt.type_bigint() }}) as amount_minor,
        {{ normalize_code('ranked_deliveries.currency') }} as currency,
        {{ normalize_code('ranked_deliveries.status') }} as status,
        {{ normalize_code('ranked_deliveries.failure_code') }} as failure_code,
        case
            when {{ normalize_code('ranked_deliveries.failure_code') }} is null then null
            else coalesce(payment_failure_codes.caused_by, 'unknown')
        end as failure_caused_by,
        coalesce(payment_failure_codes.caused_by = 'company', false) as is_company_caused,
        {{ staging_bookkeeping_columns(source('billing', 'payments'), 'ranked_deliveries') }}
    from ranked_deliveries
    left join payment_failure_codes
        on {{ normalize_code('ranked_deliveries.failure_code') }} = payment_failure_codes.failure_code
    where ranked_deliveries.delivery_rank = 1

)

select * from final
