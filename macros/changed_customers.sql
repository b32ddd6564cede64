{#
  Customer-keyed incremental models rebuild the customers of the change set (int_changed_customers) that
  changed after the model's own last run, with the standard delete+insert on the model's key.

  Usage, in a model whose rows carry _loaded_through_at (int_warehouse_as_of.loaded_through_at):
    {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='customer_id',
              post_hook="{{ delete_rows_of_vanished_customers() }}") }}
    ... where customer_id in ({{ changed_customers_since_last_run() }})   (inside {% if is_incremental() %})
#}

{#
  W: the watermark of the model's last run (the latest _loaded_through_at of its rows; 1900 when empty).

  On an incremental run W is read when the model is rendered and written into its SQL as a constant, not as
  a subquery: the engine then plans with it. A filter `_loaded_through_at > W` on a constant is answered
  from the column's min/max statistics (on a run with nothing new the branch is empty before it runs), and
  the planner no longer takes the rows written since W for a fifth or more of the table: with a subquery,
  DuckDB estimated a union of such filters above the 18M invoice lines it was matched against and built its
  hash table on all the lines instead of on the few keys to rebuild. The model's own rows do not change
  between rendering and running, so the constant is the value the subquery would return.
  Outside a run (parsing), the subquery.
#}
{% macro last_run_watermark() -%}
    {%- set watermark -%}
        select coalesce(max(_loaded_through_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) from {{ this }}
    {%- endset -%}
    {%- if execute and is_incremental() -%}
        {%- set value = run_query(
            'select cast((' ~ watermark ~ ') as ' ~ dbt.type_string() ~ ')').columns[0].values()[0] -%}
        cast('{{ value }}' as {{ dbt.type_timestamp() }})
    {%- else -%}
        ({{ watermark }})
    {%- endif -%}
{%- endmacro %}


{# The customers to rebuild: changed after W. #}
{% macro changed_customers_since_last_run() -%}
    select customer_id from {{ ref('int_changed_customers') }} where _loaded_through_at > {{ last_run_watermark() }}
{%- endmacro %}


{#
  Post-hook: the keys that vanish. A changed customer left with no row at all (every hit undone, every
  record withdrawn) wrote none, so their old rows are still there: delete_rows_of_vanished_keys
  (macros/keys_restaged_since_last_run.sql) removes the rows older than this run of the customers that
  changed after the previous run. No-op on full builds.
#}
{% macro delete_rows_of_vanished_customers() -%}
    {{ delete_rows_of_vanished_keys('customer_id', ref('int_changed_customers')) }}
{%- endmacro %}


{#
  The customers a poor-experience rule model recomputes on an incremental run: those of the change set since
  its last run, or every customer when the rule's threshold in seed poor_experience_rules is not the one its
  stored hits were found with (each row keeps it as _rule_threshold).
#}
{% macro customers_to_rebuild_for_rule(rule_id) -%}
    {{ changed_customers_since_last_run() }}

    union

    select customer_id from {{ ref('int_changed_customers') }}
    where exists (
        select 1
        from {{ this }} as built
        inner join {{ ref('poor_experience_rules') }} as rules
            on rules.rule_id = '{{ rule_id }}'
        where built._rule_threshold is distinct from cast(rules.threshold as {{ dbt.type_numeric() }})
    )
{%- endmacro %}


{#
  As customers_to_rebuild_for_rule, for a model holding the hits of several rules (each row keeps its rule_id
  and the threshold it was found with): every customer when any of those rules' thresholds changed.
#}
{% macro customers_to_rebuild_for_rules(rule_ids) -%}
    {{ changed_customers_since_last_run() }}

    union

    select customer_id from {{ ref('int_changed_customers') }}
    where exists (
        select 1
        from {{ this }} as built
        inner join {{ ref('poor_experience_rules') }} as rules
            on built.rule_id = rules.rule_id
        where rules.rule_id in ('{{ rule_ids | join("', '") }}')
            and built._rule_threshold is distinct from cast(rules.threshold as {{ dbt.type_numeric() }})
    )
{%- endmacro %}
