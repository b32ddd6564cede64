with

subscription_versions as (

    select * from {{ ref('base_crm__subscription_versions') }}

),

versions_in_order as (

    select
        *,
        lead(updated_at) over (partition by subscription_id order by updated_at) as next_updated_at,
        lag(plan_code) over (partition by subscription_id order by updated_at) as previous_plan_code,
        lag(plan_tier) over (partition by subscription_id order by updated_at) as previous_plan_tier,
        row_number() over (partition by subscription_id order by updated_at) as version_number
    from subscription_versions

),

final as (

    select
        {{ dbt.hash(dbt.concat(['subscription_id', "'|'", dbt.cast('updated_at', api.Column.translate_type('string'))])) }}
            as subscription_version_id,
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
        mapped_cancel_reason_code,
        reason_source,
        reason_category,
        stated_silo,
        updated_at,
        version_number,
        updated_at as valid_from,
        next_updated_at as valid_to,
        next_updated_at is null as is_current,
        previous_plan_code,
        previous_plan_tier
    from versions_in_order

)

select * from final
