with

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
),

versions_with_previous_price as (
    select
        *,
        lag(monthly_price_minor) over (
            partition by subscription_id order by valid_from, subscription_version_id
        ) as previous_monthly_price_minor
    from subscription_versions
),

final as (
    select
        subscription_version_id as downgrade_id,
        subscription_id,
        customer_id,
        product,
        valid_from as downgraded_at,
        cast(valid_from as date) as downgraded_date,
        previous_plan_code as from_plan_code,
        plan_code as to_plan_code,
        previous_plan_tier as from_plan_tier,
        plan_tier as to_plan_tier,
        previous_monthly_price_minor as from_monthly_price_minor,
        monthly_price_minor as to_monthly_price_minor,
        monthly_price_minor - previous_monthly_price_minor as monthly_price_change_minor,
        currency
    from versions_with_previous_price
    -- a lower tier than the previous version is a downgrade, never a defection
    where previous_plan_tier is not null
        and plan_tier < previous_plan_tier
)

select * from final
