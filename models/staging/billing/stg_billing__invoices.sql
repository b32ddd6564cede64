{{ config(**staging_incremental_config('invoice_id')) }}
with

source as (

    {{ staging_source(source('billing', 'invoices'), 'invoice_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['invoice_id']) }} as delivery_rank
    from source

),

final as (

    select
        invoice_id,
        account_number,
        cast(invoice_date as date) as invoice_date,
        cast(period_start as date) as period_start_date,
        cast(period_end as date) as period_end_date,
        cast(due_date as date) as due_date,
        cast(total_minor as {{ dbt.type_bigint() }}) as total_minor,
        {{ normalize_code('currency') }} as currency,
        {{ staging_bookkeeping_columns(source('billing', 'invoices'), 'ranked_deliveries') }}
    from ranked_deliveries
    where delivery_rank = 1

)

select * from final
