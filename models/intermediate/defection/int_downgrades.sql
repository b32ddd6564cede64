{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='customer_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_customers() }}"
    )
}}
-- depends_on: {{ ref('int_changed_customers') }}
-- Incremental by customer, as int_defections: a run rebuilds the downgrades of the customers of the change
-- set that changed since this model's last run (a subscription belongs to one customer, so the previous
-- version of each version is among that customer's rows).
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
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
        currency,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from versions_with_previous_price
    cross join warehouse_as_of
    -- a lower tier than the previous version is a downgrade, never a defection
    where previous_plan_tier is not null
        and plan_tier < previous_plan_tier
)

select * from final
