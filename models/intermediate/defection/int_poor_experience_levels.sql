-- One row per customer and poor-experience level (0, 1, 2, 3+) reached within the customer's FIRST episode,
-- with how the customer's follow-up of the level ended (docs/definitions.md): the rows a censoring-aware
-- estimate (rpt_defection_rate_by_poor_experience_count) needs, whatever the length of the history. The levels
-- reached and the defections after them do not depend on the as-of date (int_poor_experience_levels_reached,
-- incremental); only how each follow-up stands at the as-of instant is decided here.
with

levels_reached as (
    select * from {{ ref('int_poor_experience_levels_reached') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

levels_assessed as (
    select
        levels_reached.customer_id,
        levels_reached.poor_experience_level,
        levels_reached.reached_at,
        levels_reached.next_level_reached_at,
        levels_reached.defected_at,
        {{ dbt.dateadd('day', var('defection_horizon_days'), 'levels_reached.reached_at') }} as horizon_at,
        warehouse_as_of.as_of_at,
        levels_reached.is_defected_after_level
    from levels_reached
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
