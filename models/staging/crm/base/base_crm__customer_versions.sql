{{ config(**staging_incremental_config(['customer_id', 'updated_at'])) }}
with

source as (

    {{ staging_source(source('crm', 'customers'), ['customer_id', 'updated_at'], source_key=['customer_id', to_utc('updated_at')]) }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['customer_id', to_utc('updated_at')]) }} as delivery_rank
    from source

),

final as (

    select
        customer_id,
        {{ normalize_email('email') }} as email,
        trim(full_name) as full_name,
        {{ normalize_code('region') }} as region,
        campaign_id,
        {{ to_utc('signed_up_at') }} as signed_up_at,
        cast(marketing_opt_in as {{ dbt.type_boolean() }}) as marketing_opt_in,
        {{ to_utc('updated_at') }} as updated_at,
        _export_date as export_date,
        _load_id as load_id,
        {{ staging_bookkeeping_columns(source('crm', 'customers'), 'ranked_deliveries') }}
    from ranked_deliveries
    where delivery_rank = 1

)

select * from final
