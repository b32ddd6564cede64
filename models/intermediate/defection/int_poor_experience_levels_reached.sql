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
  One row per customer and poor-experience level (0, 1, 2, 3+) reached within the customer's FIRST episode:
  when it was reached, when the next level was, and whether the customer defected after exactly that level
  (docs/definitions.md). None of it depends on the as-of date, so it is incremental by customer, as
  int_defections: a run rebuilds the customers of the change set that changed since this model's last run.
  int_poor_experience_levels adds how each follow-up ended at the as-of instant.
#}
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

poor_experiences as (
    select * from {{ ref('int_poor_experiences') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

first_episodes as (
    select * from customer_episodes where episode_number = 1
),

poor_experiences_ranked as (
    select
        poor_experiences.customer_id,
        poor_experiences.occurred_at,
        row_number() over (
            partition by poor_experiences.customer_id
            order by poor_experiences.occurred_at, poor_experiences.poor_experience_id
        ) as experience_rank
    from poor_experiences
    inner join first_episodes
        on poor_experiences.customer_id = first_episodes.customer_id
        and poor_experiences.occurred_at >= first_episodes.episode_started_at
        and poor_experiences.occurred_at <= {{ open_ended('first_episodes.episode_ended_at') }}
),

levels_reached as (
    select customer_id, 0 as poor_experience_level, episode_started_at as reached_at
    from first_episodes
    union all
    select customer_id, cast(experience_rank as integer) as poor_experience_level, occurred_at as reached_at
    from poor_experiences_ranked
    where experience_rank <= 3
),

levels_with_next as (
    select
        *,
        -- 3+ is open-ended: it has no next level
        lead(reached_at) over (partition by customer_id order by poor_experience_level)
            as next_level_reached_at
    from levels_reached
),

final as (
    select
        levels_with_next.customer_id,
        levels_with_next.poor_experience_level,
        levels_with_next.reached_at,
        levels_with_next.next_level_reached_at,
        first_episodes.episode_ended_at as defected_at,
        coalesce(
            first_episodes.is_defection
            and first_episodes.episode_ended_at
                <= {{ dbt.dateadd('day', var('defection_horizon_days'), 'levels_with_next.reached_at') }}
            and (levels_with_next.next_level_reached_at is null
                or first_episodes.episode_ended_at < levels_with_next.next_level_reached_at),
            false
        ) as is_defected_after_level,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from levels_with_next
    inner join first_episodes
        on levels_with_next.customer_id = first_episodes.customer_id
    cross join warehouse_as_of
)

select * from final
