-- Stickiness of every customer at the data's as-of instant; customers with no active subscription score 0.
with

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
),

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

active_subscriptions as (
    select
        subscription_versions.customer_id,
        count(distinct subscription_versions.product) as n_active_products,
        count(*) as n_active_subscriptions,
        sum(subscription_versions.monthly_price_minor) as monthly_value_minor,
        max(case when subscription_versions.contract_ends_on > warehouse_as_of.as_of_date then 1 else 0 end)
            = 1 as has_minimum_term
    from subscription_versions
    cross join warehouse_as_of
    where subscription_versions.is_current
        and subscription_versions.started_at < warehouse_as_of.as_of_at
        and (subscription_versions.cancelled_at is null
            or subscription_versions.cancelled_at >= warehouse_as_of.as_of_at)
    group by subscription_versions.customer_id
),

open_episodes as (
    select customer_id, episode_started_at
    from customer_episodes
    where not is_defection
),

scored as (
    select
        active_subscriptions.customer_id,
        active_subscriptions.n_active_products,
        active_subscriptions.n_active_subscriptions,
        active_subscriptions.monthly_value_minor,
        active_subscriptions.has_minimum_term,
        {{ stickiness_score('active_subscriptions.has_minimum_term', 'active_subscriptions.n_active_products',
            'open_episodes.episode_started_at', 'warehouse_as_of.as_of_at') }} as stickiness_score
    from active_subscriptions
    cross join warehouse_as_of
    left join open_episodes
        on active_subscriptions.customer_id = open_episodes.customer_id
),

final as (
    select
        customer_id,
        cast(n_active_products as integer) as n_active_products,
        cast(n_active_subscriptions as integer) as n_active_subscriptions,
        cast(monthly_value_minor as bigint) as monthly_value_minor,
        has_minimum_term,
        cast(stickiness_score as integer) as stickiness_score,
        {{ stickiness_band('stickiness_score') }} as stickiness_band
    from scored
)

select * from final
