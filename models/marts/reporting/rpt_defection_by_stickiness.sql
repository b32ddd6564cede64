-- Who stays anyway: within first episodes, the probability of defecting within defection_horizon_days of the
-- first poor experience (any defection in the horizon) or of the episode start before any poor experience
-- (the first poor experience is then the competing event), by how sticky the customer was at that instant.
-- Censoring-aware like rpt_defection_rate_by_poor_experience_count (macros/marts/cumulative_incidence.sql):
-- a customer still followed at the as-of date counts for as long as they were followed, never by outcome.
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
        poor_experience_levels.next_level_reached_at,
        first_episodes.episode_started_at,
        first_episodes.is_defection,
        first_episodes.episode_ended_at
    from poor_experience_levels
    inner join customer_episodes as first_episodes
        on poor_experience_levels.customer_id = first_episodes.customer_id
        and first_episodes.episode_number = 1
    -- every customer from the episode start (level 0) and, once they have one, from their first poor experience
    where poor_experience_levels.poor_experience_level <= 1
),

subscriptions_at_reference as (
    select
        reference_points.customer_id,
        reference_points.had_poor_experience,
        count(distinct subscription_versions.product) as n_active_products,
        max(case when subscription_versions.contract_ends_on > cast(reference_points.reached_at as date)
            then 1 else 0 end) = 1 as has_minimum_term
    from reference_points
    inner join subscription_versions
        on reference_points.customer_id = subscription_versions.customer_id
        and subscription_versions.is_current
        and subscription_versions.started_at <= reference_points.reached_at
        and {{ open_ended('subscription_versions.cancelled_at') }} > reference_points.reached_at
    group by reference_points.customer_id, reference_points.had_poor_experience
),

assessed as (
    select
        reference_points.customer_id,
        reference_points.had_poor_experience,
        {{ stickiness_band(stickiness_score('coalesce(subscriptions_at_reference.has_minimum_term, false)',
            'coalesce(subscriptions_at_reference.n_active_products, 0)',
            'reference_points.episode_started_at', 'reference_points.reached_at')) }} as stickiness_band,
        reference_points.reached_at,
        {{ dbt.dateadd('day', var('defection_horizon_days'), 'reference_points.reached_at') }} as horizon_at,
        -- before any poor experience, the first one ends the follow-up (it moves the customer to the other row)
        case when not reference_points.had_poor_experience then reference_points.next_level_reached_at
        end as competing_at,
        case when reference_points.is_defection then reference_points.episode_ended_at end as defected_at,
        warehouse_as_of.as_of_at
    from reference_points
    cross join warehouse_as_of
    left join subscriptions_at_reference
        on reference_points.customer_id = subscriptions_at_reference.customer_id
        and reference_points.had_poor_experience = subscriptions_at_reference.had_poor_experience
),

exits as (
    select
        *,
        case
            when defected_at <= horizon_at and (competing_at is null or defected_at < competing_at)
                then 'defected'
            when competing_at <= horizon_at then 'competing'
            when horizon_at <= as_of_at then 'horizon'
            else 'censored'
        end as follow_up_exit
    from assessed
),

follow_ups as (
    select
        had_poor_experience,
        stickiness_band,
        follow_up_exit,
        {{ dbt.datediff('reached_at', 'follow_up_ended_at', 'second') }} as follow_up_seconds,
        horizon_at <= as_of_at as has_full_follow_up
    from (
        select
            *,
            case follow_up_exit
                when 'defected' then defected_at
                when 'competing' then competing_at
                when 'horizon' then horizon_at
                else as_of_at
            end as follow_up_ended_at
        from exits
    ) as exits_timed
),

{{ cumulative_incidence_ctes('follow_ups', ['had_poor_experience', 'stickiness_band']) }},

rows_expected as (
    select flags.had_poor_experience, bands.stickiness_band, bands.stickiness_band_order
    from (select false as had_poor_experience union all select true) as flags
    cross join {{ stickiness_bands() }} as bands
),

final as (
    select
        rows_expected.had_poor_experience,
        rows_expected.stickiness_band,
        cast(rows_expected.stickiness_band_order as integer) as stickiness_band_order,
        cast(coalesce(cif_estimates.customers, 0) as integer) as customers,
        cast(coalesce(cif_estimates.customers_defected, 0) as integer) as customers_defected,
        cast(coalesce(cif_estimates.customers_censored, 0) as integer) as customers_censored,
        cast(coalesce(cif_estimates.customers_with_full_follow_up, 0) as integer) as customers_with_full_follow_up,
        {{ cumulative_incidence_rate_columns('cif_estimates') }}
    from rows_expected
    left join cif_estimates
        on rows_expected.had_poor_experience = cif_estimates.had_poor_experience
        and rows_expected.stickiness_band = cif_estimates.stickiness_band
)

select * from final
