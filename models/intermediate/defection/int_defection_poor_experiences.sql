-- One row per defection and poor experience inside its lookback window (defected_at - lookback_days,
-- defected_at], ranked from the earliest (first touch) to the latest (last touch).
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
-- Incremental by customer, as int_defections: a run rebuilds the windows of the customers of the change set
-- that changed since this model's last run (a window holds one customer's defection and poor experiences).
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

poor_experiences as (
    select * from {{ ref('int_poor_experiences') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

joined as (
    select
        defections.defection_id,
        defections.customer_id,
        defections.defected_at,
        poor_experiences.poor_experience_id,
        poor_experiences.silo,
        poor_experiences.kind,
        poor_experiences.occurred_at
    from defections
    inner join poor_experiences
        on defections.customer_id = poor_experiences.customer_id
        and poor_experiences.occurred_at
            > {{ dbt.dateadd('day', -1 * var('lookback_days'), 'defections.defected_at') }}
        and poor_experiences.occurred_at <= defections.defected_at
),

final as (
    select
        joined.*,
        -- ties on the instant are broken by silo then id so both touch rules are deterministic
        row_number() over (
            partition by defection_id order by occurred_at, silo, poor_experience_id
        ) as rank_from_first,
        row_number() over (
            partition by defection_id order by occurred_at desc, silo desc, poor_experience_id desc
        ) as rank_from_last,
        count(*) over (partition by defection_id) as n_in_window,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from joined
    cross join warehouse_as_of
)

select * from final
