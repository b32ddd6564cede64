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
-- Incremental by customer, as int_customer_episodes: a run rebuilds the defections of the customers of the
-- change set that changed since this model's last run.
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

next_episodes as (
    select customer_id, episode_number - 1 as previous_episode_number
    from customer_episodes
    where episode_number > 1
),

final as (
    select
        {{ dbt.hash(dbt.concat(['customer_episodes.customer_id', "'|'",
            'cast(customer_episodes.episode_number as ' ~ dbt.type_string() ~ ')'])) }} as defection_id,
        customer_episodes.customer_id,
        customer_episodes.episode_number,
        customer_episodes.episode_started_at,
        customer_episodes.episode_ended_at as defected_at,
        cast(customer_episodes.episode_ended_at as date) as defected_date,
        customer_episodes.defection_type,
        customer_episodes.cancel_reason_code,
        customer_episodes.reason_category,
        customer_episodes.stated_silo,
        customer_episodes.is_win_back as is_after_win_back,
        next_episodes.customer_id is not null as is_won_back_later,
        cast({{ dbt.datediff('customer_episodes.episode_started_at', 'customer_episodes.episode_ended_at',
            'day') }} as integer) as tenure_days,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from customer_episodes
    cross join warehouse_as_of
    left join next_episodes
        on customer_episodes.customer_id = next_episodes.customer_id
        and customer_episodes.episode_number = next_episodes.previous_episode_number
    where customer_episodes.is_defection
)

select * from final
