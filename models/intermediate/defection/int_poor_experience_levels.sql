-- One row per customer and poor-experience level (0, 1, 2, 3+) reached within the customer's FIRST episode,
-- with how the customer's follow-up of the level ended (docs/definitions.md): the rows a censoring-aware
-- estimate (rpt_defection_rate_by_poor_experience_count) needs, whatever the length of the history.
with

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
),

poor_experiences as (
    select * from {{ ref('int_poor_experiences') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
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

levels_assessed as (
    select
        levels_with_next.customer_id,
        levels_with_next.poor_experience_level,
        levels_with_next.reached_at,
        levels_with_next.next_level_reached_at,
        first_episodes.episode_ended_at as defected_at,
        {{ dbt.dateadd('day', var('defection_horizon_days'), 'levels_with_next.reached_at') }} as horizon_at,
        warehouse_as_of.as_of_at,
        coalesce(
            first_episodes.is_defection
            and first_episodes.episode_ended_at
                <= {{ dbt.dateadd('day', var('defection_horizon_days'), 'levels_with_next.reached_at') }}
            and (levels_with_next.next_level_reached_at is null
                or first_episodes.episode_ended_at < levels_with_next.next_level_reached_at),
            false
        ) as is_defected_after_level
    from levels_with_next
    inner join first_episodes
        on levels_with_next.customer_id = first_episodes.customer_id
    cross join warehouse_as_of
),

-- How each customer leaves the level's follow-up, first event wins: a defection inside the horizon, the next
-- level inside the horizon (the competing event), the horizon itself under observation, or the end of the
-- data (censored: still being followed, outcome unknown). Nobody is kept or dropped by their outcome.
levels_exited as (
    select
        *,
        case
            when is_defected_after_level then 'defected'
            when next_level_reached_at is not null and next_level_reached_at <= horizon_at then 'next_level'
            when horizon_at <= as_of_at then 'horizon'
            else 'censored'
        end as follow_up_exit
    from levels_assessed
),

final as (
    select
        customer_id,
        poor_experience_level,
        case
            when poor_experience_level >= 3 then '3+'
            else cast(poor_experience_level as {{ dbt.type_string() }})
        end as poor_experience_level_label,
        reached_at,
        next_level_reached_at,
        defected_at,
        is_defected_after_level,
        follow_up_exit,
        case follow_up_exit
            when 'defected' then defected_at
            when 'next_level' then next_level_reached_at
            when 'horizon' then horizon_at
            else as_of_at
        end as follow_up_ended_at,
        follow_up_exit <> 'censored' as has_known_outcome,
        -- depends only on when the level was reached, never on the outcome: what the report's status reads
        horizon_at <= as_of_at as has_full_follow_up
    from levels_exited
)

select * from final
