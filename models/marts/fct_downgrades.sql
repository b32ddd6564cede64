with

downgrades as (
    select * from {{ ref('int_downgrades') }}
),

final as (
    select
        downgrade_id,
        subscription_id,
        customer_id,
        product,
        downgraded_at,
        downgraded_date,
        from_plan_code,
        to_plan_code,
        from_plan_tier,
        to_plan_tier,
        from_monthly_price_minor,
        to_monthly_price_minor,
        monthly_price_change_minor,
        currency
    from downgrades
)

select * from final
