-- Active customers with poor experiences in the last risk_window_days and no complaint in that window, ranked by
-- their risk score (int_customer_risk_scores, which the customer dimension reads too).
with

risk_scores as (
    select * from {{ ref('int_customer_risk_scores') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

final as (
    select
        cast(row_number() over (
            order by
                risk_scores.risk_score desc,
                risk_scores.n_recent_poor_experiences desc,
                risk_scores.last_poor_experience_at desc,
                risk_scores.customer_id
        ) as integer) as risk_rank,
        risk_scores.customer_id,
        risk_scores.n_recent_poor_experiences,
        risk_scores.poor_experience_level,
        risk_scores.poor_experience_level_label,
        risk_scores.last_poor_experience_at,
        risk_scores.recent_silos,
        risk_scores.stickiness_score,
        risk_scores.stickiness_band,
        cast({{ stickiness_band_order('risk_scores.stickiness_band') }} as integer) as stickiness_band_order,
        risk_scores.level_defection_rate,
        risk_scores.level_rate_status,
        risk_scores.risk_score,
        risk_scores.is_above_threshold,
        warehouse_as_of.as_of_date
    from risk_scores
    cross join warehouse_as_of
)

select * from final
