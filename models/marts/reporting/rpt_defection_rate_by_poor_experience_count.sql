-- Publishes the censoring-aware defection rate per poor-experience level. The estimate lives in
-- int_poor_experience_level_rates, so the watchlist's risk score (int_customer_risk_scores) reads the same rates
-- without a report reading a report.
with

level_rates as (
    select * from {{ ref('int_poor_experience_level_rates') }}
),

final as (
    select
        poor_experience_level,
        poor_experience_level_label,
        customers_reached,
        customers_defected,
        customers_reached_next_level,
        customers_censored,
        customers_at_risk_at_horizon,
        customers_with_full_follow_up,
        estimate_status,
        defection_rate,
        defection_rate_ci_lower,
        defection_rate_ci_upper
    from level_rates
)

select * from final
