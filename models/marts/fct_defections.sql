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
-- Incremental by customer, as int_defections: nothing in a defection depends on the as-of date, so a run
-- rebuilds the defections of the customers of the change set that changed since this model's last run.
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

defections as (
    select * from {{ ref('int_defections') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

defection_poor_experiences as (
    select * from {{ ref('int_defection_poor_experiences') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

complaints as (
    select * from {{ ref('int_complaints') }}
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

window_summary as (
    select
        defection_id,
        count(*) as n_poor_experiences_in_lookback,
        max(case when rank_from_last = 1 then silo end) as last_touch_silo,
        max(case when rank_from_first = 1 then silo end) as first_touch_silo,
        max(case when rank_from_last = 1 then kind end) as last_poor_experience_kind
    from defection_poor_experiences
    group by defection_id
),

complaints_in_window as (
    select
        defections.defection_id,
        count(*) as n_complaints_in_lookback
    from defections
    inner join complaints
        on defections.customer_id = complaints.customer_id
        and complaints.complained_at
            > {{ dbt.dateadd('day', -1 * var('lookback_days'), 'defections.defected_at') }}
        and complaints.complained_at <= defections.defected_at
    group by defections.defection_id
),

-- What the customer had just before leaving: value lost and stickiness at the moment of defection.
subscriptions_at_exit as (
    select
        defections.defection_id,
        count(distinct subscription_versions.product) as n_products_at_exit,
        sum(subscription_versions.monthly_price_minor) as monthly_value_lost_minor,
        max(subscription_versions.currency) as currency,
        max(case
            when subscription_versions.contract_ends_on > cast(defections.defected_at as date) then 1 else 0
        end)
            = 1 as had_minimum_term_at_exit
    from defections
    inner join subscription_versions
        on defections.customer_id = subscription_versions.customer_id
        and subscription_versions.is_current
        and subscription_versions.started_at < defections.defected_at
        and subscription_versions.cancelled_at >= defections.defected_at
    group by defections.defection_id
),

final as (
    select
        defections.defection_id,
        defections.customer_id,
        defections.episode_number,
        defections.episode_started_at,
        defections.defected_at,
        defections.defected_date,
        defections.defection_type,
        defections.tenure_days,
        cast(coalesce(subscriptions_at_exit.monthly_value_lost_minor, 0) as bigint)
            as monthly_value_lost_minor,
        subscriptions_at_exit.currency,
        cast({{ stickiness_score('coalesce(subscriptions_at_exit.had_minimum_term_at_exit, false)',
            'coalesce(subscriptions_at_exit.n_products_at_exit, 0)',
            'defections.episode_started_at', 'defections.defected_at') }} as integer)
            as stickiness_score_at_exit,
        {{ stickiness_band(stickiness_score('coalesce(subscriptions_at_exit.had_minimum_term_at_exit, false)',
            'coalesce(subscriptions_at_exit.n_products_at_exit, 0)',
            'defections.episode_started_at', 'defections.defected_at')) }} as stickiness_band_at_exit,
        cast(coalesce(window_summary.n_poor_experiences_in_lookback, 0) as integer)
            as n_poor_experiences_in_lookback,
        cast(coalesce(complaints_in_window.n_complaints_in_lookback, 0) as integer)
            as n_complaints_in_lookback,
        complaints_in_window.defection_id is not null as has_complained_in_lookback,
        window_summary.defection_id is not null and complaints_in_window.defection_id is null as is_hidden,
        coalesce(window_summary.last_touch_silo, 'none') as last_touch_silo,
        coalesce(window_summary.first_touch_silo, 'none') as first_touch_silo,
        window_summary.last_poor_experience_kind,
        defections.cancel_reason_code,
        defections.reason_category as stated_reason_category,
        defections.stated_silo,
        defections.is_after_win_back,
        defections.is_won_back_later,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from defections
    cross join warehouse_as_of
    left join window_summary
        on defections.defection_id = window_summary.defection_id
    left join complaints_in_window
        on defections.defection_id = complaints_in_window.defection_id
    left join subscriptions_at_exit
        on defections.defection_id = subscriptions_at_exit.defection_id
)

select * from final
