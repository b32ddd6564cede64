-- Grain: one row per poor-experience level 0, 1, 2, 3+. Defection within defection_horizon_days after exactly k
-- poor experiences, censoring-aware: the cumulative incidence of defection with reaching the next level as the
-- competing event (macros/marts/cumulative_incidence.sql, docs/definitions.md). A customer still being followed at the as-of date counts for as long as they were
-- followed, never by their outcome. A level with fewer than min_customers_with_full_follow_up customers whose
-- whole horizon lies within the data states why and prints no rate.
with

poor_experience_levels as (
    select * from {{ ref('int_poor_experience_levels') }}
),

level_labels as (
    select 0 as poor_experience_level, '0' as poor_experience_level_label
    union all select 1, '1'
    union all select 2, '2'
    union all select 3, '3+'
),

level_follow_ups as (
    select
        poor_experience_level,
        {{ dbt.datediff('reached_at', 'follow_up_ended_at', 'second') }} as follow_up_seconds,
        case when follow_up_exit = 'next_level' then 'competing' else follow_up_exit end as follow_up_exit,
        has_full_follow_up
    from poor_experience_levels
),

{{ cumulative_incidence_ctes('level_follow_ups', ['poor_experience_level']) }},

final as (
    select
        level_labels.poor_experience_level,
        level_labels.poor_experience_level_label,
        cast(coalesce(cif_estimates.customers, 0) as integer) as customers_reached,
        cast(coalesce(cif_estimates.customers_defected, 0) as integer) as customers_defected,
        cast(coalesce(cif_estimates.customers_competing, 0) as integer) as customers_reached_next_level,
        cast(coalesce(cif_estimates.customers_censored, 0) as integer) as customers_censored,
        cast(coalesce(cif_estimates.customers_at_risk_at_horizon, 0) as integer) as customers_at_risk_at_horizon,
        cast(coalesce(cif_estimates.customers_with_full_follow_up, 0) as integer) as customers_with_full_follow_up,
        {{ cumulative_incidence_rate_columns('cif_estimates') }}
    from level_labels
    left join cif_estimates
        on level_labels.poor_experience_level = cif_estimates.poor_experience_level
)

select * from final
