-- Grain: one row per active customer with poor experiences in the last risk_window_days and no complaint in that
-- window, scored by the estimated defection rate of their level, damped by how hard it is for them to leave. A
-- level whose rate the history cannot estimate yet (insufficient follow-up) borrows the highest rate estimated
-- for a lower level, and says so: more poor experiences are not taken to make a customer safer. Read by the
-- customer dimension (is_at_risk, risk_score) and the silent-attrition watchlist (ranked).
with

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
),

poor_experiences as (
    select * from {{ ref('int_poor_experiences') }}
),

complaints as (
    select * from {{ ref('int_complaints') }}
),

stickiness as (
    select * from {{ ref('int_customer_stickiness') }}
),

level_rates as (
    select * from {{ ref('int_poor_experience_level_rates') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

active_customers as (
    select distinct customer_id from customer_episodes where not is_defection
),

recent_poor_experiences as (
    select
        poor_experiences.customer_id,
        count(*) as n_recent_poor_experiences,
        max(poor_experiences.occurred_at) as last_poor_experience_at,
        {{ dbt.listagg('distinct poor_experiences.silo', "','", 'order by poor_experiences.silo') }}
            as recent_silos
    from poor_experiences
    cross join warehouse_as_of
    where poor_experiences.occurred_at
            > {{ dbt.dateadd('day', -1 * var('risk_window_days'), 'warehouse_as_of.as_of_at') }}
        and poor_experiences.occurred_at <= warehouse_as_of.as_of_at
    group by poor_experiences.customer_id
),

recent_complainers as (
    select distinct complaints.customer_id
    from complaints
    cross join warehouse_as_of
    where complaints.complained_at
            > {{ dbt.dateadd('day', -1 * var('risk_window_days'), 'warehouse_as_of.as_of_at') }}
        and complaints.complained_at <= warehouse_as_of.as_of_at
),

candidates as (
    select
        recent_poor_experiences.*,
        case when recent_poor_experiences.n_recent_poor_experiences >= 3 then 3
            else recent_poor_experiences.n_recent_poor_experiences end as poor_experience_level,
        coalesce(stickiness.stickiness_score, 0) as stickiness_score,
        coalesce(stickiness.stickiness_band, 'low') as stickiness_band
    from recent_poor_experiences
    inner join active_customers
        on recent_poor_experiences.customer_id = active_customers.customer_id
    left join recent_complainers
        on recent_poor_experiences.customer_id = recent_complainers.customer_id
    left join stickiness
        on recent_poor_experiences.customer_id = stickiness.customer_id
    where recent_complainers.customer_id is null
),

level_rates_usable as (
    select
        poor_experience_level,
        poor_experience_level_label,
        defection_rate,
        max(defection_rate) over (
            order by poor_experience_level rows between unbounded preceding and 1 preceding
        ) as lower_level_rate
    from level_rates
),

scored as (
    select
        candidates.*,
        level_rates_usable.poor_experience_level_label,
        case
            when level_rates_usable.defection_rate is not null then 'estimated'
            when level_rates_usable.lower_level_rate is not null then 'from_lower_level'
            else 'none'
        end as level_rate_status,
        coalesce(level_rates_usable.defection_rate, level_rates_usable.lower_level_rate, 0)
            as level_defection_rate,
        coalesce(level_rates_usable.defection_rate, level_rates_usable.lower_level_rate, 0)
            * greatest(1 - {{ var('stickiness_damping_per_point') }} * candidates.stickiness_score, 0)
            as risk_score
    from candidates
    left join level_rates_usable
        on candidates.poor_experience_level = level_rates_usable.poor_experience_level
),

final as (
    select
        customer_id,
        cast(n_recent_poor_experiences as integer) as n_recent_poor_experiences,
        cast(poor_experience_level as integer) as poor_experience_level,
        poor_experience_level_label,
        last_poor_experience_at,
        recent_silos,
        cast(stickiness_score as integer) as stickiness_score,
        stickiness_band,
        cast(level_defection_rate as {{ type_double() }}) as level_defection_rate,
        level_rate_status,
        cast(risk_score as {{ type_double() }}) as risk_score,
        risk_score >= {{ var('risk_score_threshold') }} as is_above_threshold
    from scored
)

select * from final
