-- A customer active at the as-of instant may have defected before (and come back), but never after their
-- current episode started: returns defections dated after the start of a still-open episode.
-- Reads several models: Dagster attaches it as an asset check of the model it guards (dagster-dbt reads
-- meta.dagster.ref; without it a test with several parents is no check of any asset).
{{ config(meta={'dagster': {'ref': {'name': 'fct_defections'}}}) }}
with

defections as (
    select * from {{ ref('fct_defections') }}
),

open_episodes as (
    select customer_id, episode_started_at
    from {{ ref('int_customer_episodes') }}
    where not is_defection
),

final as (
    select defections.*
    from defections
    inner join open_episodes
        on defections.customer_id = open_episodes.customer_id
        and defections.defected_at >= open_episodes.episode_started_at
)

select * from final
