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
  Poor-experience rule hits for long_outage: an OUTAGE event of the optional network feed
  (stg_network__service_events) that lasted more than the rule's threshold in minutes. An event still open
  has no duration yet: it counts once its end is delivered. Empty for a company without the feed.
  Grain: one row per event.
  Incremental by customer: a run recomputes the customers of the change set (int_changed_customers) that
  changed since this model's last run, or every customer when the rule's threshold in seed
  poor_experience_rules changed (customers_to_rebuild_for_rule); delete+insert on customer_id replaces their
  rows and the post-hook deletes the rows of those left with no hit. Any other change (this model's SQL):
  --full-refresh. tests/warehouse/test_incremental.py compares the result with a full refresh.
#}
with

events as (

    select * from {{ ref('stg_network__service_events') }}

),

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

{% if is_incremental() %}
customers_in_scope as (

    {{ customers_to_rebuild_for_rule('long_outage') }}

),

{% endif %}

long_outage_rule as ({{ poor_experience_rule('long_outage') }}),

long_outages as (

    select
        events.customer_id,
        long_outage_rule.rule_id,
        long_outage_rule.silo,
        long_outage_rule.kind,
        events.started_at as occurred_at,
        'stg_network__service_events' as evidence_table,
        events.event_id as evidence_id,
        'outage of '
            || cast({{ dbt.datediff('events.started_at', 'events.ended_at', 'minute') }} as {{ dbt.type_string() }})
            || ' min' as evidence
    from events
    cross join long_outage_rule
    where events.event_type = 'OUTAGE'
        and events.ended_at > {{ dbt.dateadd(
            'minute', 'cast(long_outage_rule.threshold as ' ~ dbt.type_int() ~ ')', 'events.started_at'
        ) }}
        {% if is_incremental() %}and events.customer_id in (select customer_id from customers_in_scope){% endif %}

),

final as (

    select
        long_outages.*,
        warehouse_as_of.loaded_through_at as _loaded_through_at,
        long_outage_rule.threshold as _rule_threshold
    from long_outages
    cross join warehouse_as_of
    cross join long_outage_rule

)

select * from final
