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
{#
  How sticky each customer was at the two reference points of their first episode that
  rpt_defection_by_stickiness follows: the episode start (before any poor experience) and, once they have
  one, their first poor experience; with the events that end each follow-up. Nothing here depends on the
  as-of date (the report decides censoring), so it is incremental by customer, as int_defections: a run
  rebuilds the customers of the change set that changed since this model's last run.
#}
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

poor_experience_levels as (
    select * from {{ ref('int_poor_experience_levels_reached') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
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

final as (
    select
        reference_points.customer_id,
        reference_points.had_poor_experience,
        {{ stickiness_band(stickiness_score('coalesce(subscriptions_at_reference.has_minimum_term, false)',
            'coalesce(subscriptions_at_reference.n_active_products, 0)',
            'reference_points.episode_started_at', 'reference_points.reached_at')) }} as stickiness_band,
        reference_points.reached_at,
        -- before any poor experience, the first one ends the follow-up (it moves the customer to the other row)
        case when not reference_points.had_poor_experience then reference_points.next_level_reached_at
        end as competing_at,
        case when reference_points.is_defection then reference_points.episode_ended_at end as defected_at,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from reference_points
    cross join warehouse_as_of
    left join subscriptions_at_reference
        on reference_points.customer_id = subscriptions_at_reference.customer_id
        and reference_points.had_poor_experience = subscriptions_at_reference.had_poor_experience
)

select * from final
