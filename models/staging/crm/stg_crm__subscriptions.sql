{{ config(**staging_incremental_config('subscription_id')) }}
with

subscription_versions as (

    {{ staging_source(ref('base_crm__subscription_versions'), 'subscription_id', from_raw=false) }}

),

ranked_versions as (

    select
        *,
        row_number() over (partition by subscription_id order by updated_at desc) as version_rank
    from subscription_versions

),

final as (

    select
        subscription_id,
        customer_id,
        bundle_id,
        product,
        plan_code,
        plan_tier,
        contract_type,
        contract_ends_on,
        monthly_price_minor,
        currency,
        promo_code,
        status,
        started_at,
        cancelled_at,
        cancel_type,
        cancel_reason_code,
        cancel_reason_text,
        updated_at,
        {{ staging_bookkeeping_columns(ref('base_crm__subscription_versions'), 'ranked_versions', from_raw=false) }}
    from ranked_versions
    where version_rank = 1

)

select * from final
