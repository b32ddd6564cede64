{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='poor_experience_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_customers() }}"
    )
}}
-- depends_on: {{ ref('int_changed_customers') }}
-- Incremental by customer: every customer of the change set (int_changed_customers) changed since this
-- model's last run is rebuilt whole; the post-hook deletes their rows the run did not write again (poor
-- experiences that later facts undid), so a run of daily increments equals a full refresh.
with

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
),

defections as (
    select * from {{ ref('int_defections') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

-- int_poor_experiences is incremental on the same change set: the rows it rebuilt since this model's last
-- run are all the hits of the changed customers (rows_rebuilt_since_last_run).
poor_experiences_to_build as (
    {{ rows_rebuilt_since_last_run(ref('int_poor_experiences')) }}
),

with_episode as (
    select
        poor_experiences_to_build.*,
        customer_episodes.episode_number
    from poor_experiences_to_build
    left join customer_episodes
        on poor_experiences_to_build.customer_id = customer_episodes.customer_id
        and poor_experiences_to_build.occurred_at >= customer_episodes.episode_started_at
        and poor_experiences_to_build.occurred_at <= {{ open_ended('customer_episodes.episode_ended_at') }}
),

-- the first defection at or after the experience: does it fall inside that defection's lookback window?
next_defections as (
    select
        with_episode.poor_experience_id,
        min(defections.defected_at) as next_defected_at
    from with_episode
    inner join defections
        on with_episode.customer_id = defections.customer_id
        and defections.defected_at >= with_episode.occurred_at
    group by with_episode.poor_experience_id
),

final as (
    select
        with_episode.poor_experience_id,
        with_episode.customer_id,
        with_episode.rule_id,
        with_episode.silo,
        with_episode.kind,
        with_episode.occurred_at,
        cast(with_episode.occurred_at as date) as occurred_date,
        with_episode.evidence_table,
        with_episode.evidence_id,
        with_episode.evidence,
        cast(with_episode.episode_number as integer) as episode_number,
        next_defections.next_defected_at,
        coalesce(
            next_defections.next_defected_at
                < {{ dbt.dateadd('day', var('lookback_days'), 'with_episode.occurred_at') }},
            false
        ) as is_followed_by_defection_in_lookback,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from with_episode
    left join next_defections
        on with_episode.poor_experience_id = next_defections.poor_experience_id
    cross join warehouse_as_of
)

select * from final
