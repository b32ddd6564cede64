-- Who stays anyway: within first episodes, the defection rate after the first poor experience (or after the
-- episode start for customers without one) by how sticky the customer was at that instant.
-- Same horizon and follow-up rule as rpt_defection_rate_by_poor_experience_count.
with

poor_experience_levels as (
    select * from {{ ref('int_poor_experience_levels') }}
),

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
),

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

reference_points as (
    select
        poor_experience_levels.customer_id,
        poor_experience_levels.poor_experience_level >= 1 as had_poor_experience,
        poor_experience_levels.reached_at,
        first_episodes.episode_started_at,
        first_episodes.is_defection,
        first_episodes.episode_ended_at
    from poor_experience_levels
    inner join customer_episodes as first_episodes
        on poor_experience_levels.customer_id = first_episodes.customer_id
        and first_episodes.episode_number = 1
    -- level 1 for customers who had a poor experience, level 0 for those who never did
    where poor_experience_levels.poor_experience_level = 1
        or (poor_experience_levels.poor_experience_level = 0
            and poor_experience_levels.next_level_reached_at is null)
),

subscriptions_at_reference as (
    select
        reference_points.customer_id,
        count(distinct subscription_versions.product) as n_active_products,
        max(case when subscription_versions.contract_ends_on > cast(reference_points.reached_at as date)
            then 1 else 0 end) = 1 as has_minimum_term
    from reference_points
    inner join subscription_versions
        on reference_points.customer_id = subscription_versions.customer_id
        and subscription_versions.is_current
        and subscription_versions.started_at <= reference_points.reached_at
        and {{ open_ended('subscription_versions.cancelled_at') }} > reference_points.reached_at
    group by reference_points.customer_id
),

assessed as (
    select
        reference_points.customer_id,
        reference_points.had_poor_experience,
        {{ stickiness_band(stickiness_score('coalesce(subscriptions_at_reference.has_minimum_term, false)',
            'coalesce(subscriptions_at_reference.n_active_products, 0)',
            'reference_points.episode_started_at', 'reference_points.reached_at')) }} as stickiness_band,
        coalesce(reference_points.is_defection
            and reference_points.episode_ended_at
                <= {{ dbt.dateadd('day', var('defection_horizon_days'), 'reference_points.reached_at') }},
            false) as is_defected_within_horizon,
        cast({{ dbt.dateadd('day', var('defection_horizon_days'), 'reference_points.reached_at') }} as date)
            <= warehouse_as_of.as_of_date as has_full_follow_up
    from reference_points
    cross join warehouse_as_of
    left join subscriptions_at_reference
        on reference_points.customer_id = subscriptions_at_reference.customer_id
),

counts as (
    select
        had_poor_experience,
        stickiness_band,
        count(*) as customers,
        sum(case when is_defected_within_horizon then 1 else 0 end) as customers_defected
    from assessed
    where has_full_follow_up or is_defected_within_horizon
    group by had_poor_experience, stickiness_band
),

final as (
    select
        had_poor_experience,
        stickiness_band,
        cast(customers as integer) as customers,
        cast(customers_defected as integer) as customers_defected,
        {{ defection_rate_columns('customers_defected', 'customers') }}
    from counts
)

select * from final
