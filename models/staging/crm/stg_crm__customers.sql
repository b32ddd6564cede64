{{ config(**staging_incremental_config('customer_id')) }}
with

customer_versions as (

    {{ staging_source(ref('base_crm__customer_versions'), 'customer_id', from_raw=false) }}

),

ranked_versions as (

    select
        *,
        row_number() over (partition by customer_id order by updated_at desc) as version_rank
    from customer_versions

),

final as (

    select
        customer_id,
        email,
        full_name,
        region,
        campaign_id,
        signed_up_at,
        marketing_opt_in,
        updated_at,
        {{ staging_bookkeeping_columns(ref('base_crm__customer_versions'), 'ranked_versions', from_raw=false) }}
    from ranked_versions
    where version_rank = 1

)

select * from final
