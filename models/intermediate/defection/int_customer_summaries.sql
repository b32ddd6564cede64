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
  What dim_customers counts per customer that does not depend on the as-of date: episodes, defections, poor
  experiences, complaints. Incremental by customer, as int_defections: a run rebuilds the customers of the
  change set that changed since this model's last run, so the dimension adds only the as-of figures
  (tenure, stickiness, risk) to a narrow table instead of re-counting every fact.
#}
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
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

complaints as (
    select * from {{ ref('int_complaints') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

episode_summary as (
    select
        customer_id,
        min(episode_started_at) as first_subscription_started_at,
        count(*) as n_episodes,
        max(case when is_defection then 0 else 1 end) = 1 as is_active,
        max(episode_ended_at) as last_defected_at
    from customer_episodes
    group by customer_id
),

defection_summary as (
    select customer_id, count(*) as n_defections
    from defections
    group by customer_id
),

poor_experience_summary as (
    select customer_id, count(*) as n_poor_experiences
    from poor_experiences
    group by customer_id
),

complaint_summary as (
    select customer_id, count(*) as n_complaints
    from complaints
    group by customer_id
),

final as (
    select
        customers.customer_id,
        episode_summary.first_subscription_started_at,
        cast(coalesce(episode_summary.n_episodes, 0) as integer) as n_episodes,
        coalesce(episode_summary.is_active, false) as is_active,
        episode_summary.last_defected_at,
        cast(coalesce(defection_summary.n_defections, 0) as integer) as n_defections,
        cast(coalesce(poor_experience_summary.n_poor_experiences, 0) as integer) as n_poor_experiences,
        cast(coalesce(complaint_summary.n_complaints, 0) as integer) as n_complaints,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from customers
    cross join warehouse_as_of
    left join episode_summary
        on customers.customer_id = episode_summary.customer_id
    left join defection_summary
        on customers.customer_id = defection_summary.customer_id
    left join poor_experience_summary
        on customers.customer_id = poor_experience_summary.customer_id
    left join complaint_summary
        on customers.customer_id = complaint_summary.customer_id
)

select * from final
