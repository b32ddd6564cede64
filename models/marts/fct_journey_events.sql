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
-- Incremental by customer (see fct_poor_experiences): sequence numbers, gaps and the time until the next
-- defection depend on a customer's whole history, so a customer whose inputs changed is rebuilt whole,
-- delete+insert on customer_id (the delete looks up the changed customers' ids among the events: far fewer
-- and shorter keys than the ids of every rebuilt event). Its inputs are incremental on the same change set:
-- an incremental run reads only the rows they rebuilt since this model's last run
-- (rows_rebuilt_since_last_run), which are all the rows of the changed customers.
with

touchpoints as (
    {{ rows_rebuilt_since_last_run(ref('int_touchpoints')) }}
),

customer_episodes as (
    {{ rows_rebuilt_since_last_run(ref('int_customer_episodes')) }}
),

poor_experiences as (
    {{ rows_rebuilt_since_last_run(ref('int_poor_experiences')) }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

touchpoint_events as (
    select
        -- touchpoint ids are not unique across customers (one campaign offer reaches many customers)
        {{ dbt.hash(dbt.concat(["'touchpoint|'", 'customer_id', "'|'", 'touchpoint_id'])) }}
            as journey_event_id,
        touchpoint_id,
        customer_id,
        occurred_at,
        stage,
        silo,
        touchpoint_type as event_type,
        source_table,
        cast(source_id as {{ dbt.type_string() }}) as source_id,
        description
    from touchpoints
),

exit_events as (
    select
        {{ dbt.hash(dbt.concat(["'exit|'", 'customer_id', "'|'",
            'cast(episode_number as ' ~ dbt.type_string() ~ ')'])) }} as journey_event_id,
        cast(null as {{ dbt.type_string() }}) as touchpoint_id,
        customer_id,
        episode_ended_at as occurred_at,
        'exit' as stage,
        coalesce(stated_silo, 'unknown') as silo,
        case when defection_type = 'involuntary' then 'involuntary_defection' else 'voluntary_defection' end
            as event_type,
        'int_customer_episodes' as source_table,
        cast(episode_number as {{ dbt.type_string() }}) as source_id,
        {{ dbt.concat(["'defected ('", 'coalesce(reason_category, ' ~ "'unknown'" ~ ')', "')'"]) }}
            as description
    from customer_episodes
    where is_defection
),

win_back_events as (
    select
        {{ dbt.hash(dbt.concat(["'win_back|'", 'customer_id', "'|'",
            'cast(episode_number as ' ~ dbt.type_string() ~ ')'])) }} as journey_event_id,
        cast(null as {{ dbt.type_string() }}) as touchpoint_id,
        customer_id,
        episode_started_at as occurred_at,
        'win_back' as stage,
        'marketing_sales' as silo,
        'win_back' as event_type,
        'int_customer_episodes' as source_table,
        cast(episode_number as {{ dbt.type_string() }}) as source_id,
        'came back after a defection' as description
    from customer_episodes
    where is_win_back
),

events as (
    select * from touchpoint_events
    union all
    select * from exit_events
    union all
    select * from win_back_events
),

-- Poor experiences point at their evidence row by raw table name; touchpoints at theirs by model or raw
-- name, so both are compared without the staging prefix.
poor_experiences_by_source as (
    select
        customer_id,
        replace(evidence_table, 'stg_', '') as source_table_key,
        cast(evidence_id as {{ dbt.type_string() }}) as source_id,
        count(*) as n_poor_experiences,
        {{ dbt.listagg('kind', "','", 'order by kind') }} as poor_experience_kinds
    from poor_experiences
    group by customer_id, replace(evidence_table, 'stg_', ''), cast(evidence_id as {{ dbt.type_string() }})
),

events_flagged as (
    select
        events.*,
        coalesce(poor_experiences_by_source.n_poor_experiences, 0) as n_poor_experiences,
        poor_experiences_by_source.poor_experience_kinds
    from events
    left join poor_experiences_by_source
        on events.customer_id = poor_experiences_by_source.customer_id
        and replace(events.source_table, 'stg_', '') = poor_experiences_by_source.source_table_key
        and events.source_id = poor_experiences_by_source.source_id
),

sequenced as (
    select
        events_flagged.*,
        row_number() over (
            partition by events_flagged.customer_id
            order by events_flagged.occurred_at, events_flagged.event_type, events_flagged.journey_event_id
        ) as event_sequence,
        lag(events_flagged.occurred_at) over (
            partition by events_flagged.customer_id
            order by events_flagged.occurred_at, events_flagged.event_type, events_flagged.journey_event_id
        ) as previous_occurred_at,
        -- The customer's first defection at or after the event: exit events are the defections. A window, not
        -- a range join plus a group by on the event id: the window reuses the sort by customer and time that
        -- the sequence needs, the join would match every event with every later exit of its customer.
        min(case when events_flagged.stage = 'exit' then events_flagged.occurred_at end) over (
            partition by events_flagged.customer_id
            order by events_flagged.occurred_at
            range between current row and unbounded following
        ) as next_defected_at
    from events_flagged
),

final as (
    select
        sequenced.journey_event_id,
        sequenced.touchpoint_id,
        sequenced.customer_id,
        cast(sequenced.event_sequence as integer) as event_sequence,
        sequenced.occurred_at,
        cast(sequenced.occurred_at as date) as occurred_date,
        sequenced.stage,
        sequenced.silo,
        sequenced.event_type,
        sequenced.source_table,
        sequenced.source_id,
        sequenced.description,
        sequenced.n_poor_experiences > 0 as is_poor_experience,
        cast(sequenced.n_poor_experiences as integer) as n_poor_experiences,
        sequenced.poor_experience_kinds,
        cast(
            {{ dbt.datediff('sequenced.previous_occurred_at', 'sequenced.occurred_at', 'second') }} as bigint
        )
            as seconds_since_previous_event,
        sequenced.next_defected_at,
        cast(
            {{ dbt.datediff('sequenced.occurred_at', 'sequenced.next_defected_at', 'second') }} as bigint
        )
            as seconds_until_next_defection,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from sequenced
    cross join warehouse_as_of
)

select * from final
