-- Who stays anyway: within first episodes, the probability of defecting within defection_horizon_days of the
-- first poor experience (any defection in the horizon) or of the episode start before any poor experience
-- (the first poor experience is then the competing event), by how sticky the customer was at that instant.
-- Censoring-aware like rpt_defection_rate_by_poor_experience_count (macros/marts/cumulative_incidence.sql):
-- a customer still followed at the as-of date counts for as long as they were followed, never by outcome.
-- The stickiness at each reference point and the events ending its follow-up do not depend on the as-of
-- date (int_stickiness_at_reference_points); only the censoring at the as-of instant is decided here.
with

stickiness_at_reference_points as (
    select * from {{ ref('int_stickiness_at_reference_points') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

assessed as (
    select
        stickiness_at_reference_points.had_poor_experience,
        stickiness_at_reference_points.stickiness_band,
        stickiness_at_reference_points.reached_at,
        {{ dbt.dateadd('day', var('defection_horizon_days'), 'stickiness_at_reference_points.reached_at') }}
            as horizon_at,
        stickiness_at_reference_points.competing_at,
        stickiness_at_reference_points.defected_at,
        warehouse_as_of.as_of_at
    from stickiness_at_reference_points
    cross join warehouse_as_of
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
