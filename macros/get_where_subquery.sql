{#
  Data tests of incremental models on the rows the latest run wrote (the scheduled daily build); whole tables
  everywhere else.

  Why: a daily run rewrites a small share of each incremental model, yet tests on whole tables would scan
  every row, so the tests of incremental models would be most of the daily build's test time.

  How: dbt-core 1.11 wraps the `model` argument of every generic test (and only that one: a relationships
  parent stays whole) in get_where_subquery, which applies the test's `where` config; a macro of that name
  in the root project replaces dbt's, as the dbt docs on `where` describe. A test opts in with the placeholder
  as its whole `where`:
      config: {where: "__rows_of_latest_run__"}
  and var data_tests_scope (dbt_project.yml) says what it means:
      all (default)  no filter: the test reads the whole table;
      latest_run     _loaded_through_at = (select max(_loaded_through_at) from <relation>), the rows of the
                     latest run that wrote the model (each row carries the watermark of the run that built it;
                     a model the latest run left alone has its previous run's rows tested again).
  Any other `where` is applied as dbt applies it.

  When it is sound, i.e. gives the whole-table result: the previous build passed the test (the Dagster daily
  build tests whole tables after a failed build), so rows no run has rewritten since still pass, and only
  rows the latest run wrote can fail. That holds for row-local tests (not_null, accepted_values; relationships
  from the child, as long as no run deletes a parent key without rewriting the children) and for unique keys
  whose older copies the run deletes (a delete+insert unique_key; an id holding customer_id in a model whose
  pre-hook deletes every row of the customers it rebuilds). Never for tests comparing whole tables (row
  counts, sums over groups, singular tests). Each opted-in test says why in its YAML; checked here: the model
  is incremental (rows it does not rewrite keep their older watermark) and the test is an error on any
  failing row (a warning, or error_if above 0, lets a build pass with failing rows a scoped test would miss).
  Assumes a run's watermark is never below an earlier run's (raw _loaded_at only grows, raw/load.py).
#}
{% macro get_where_subquery(relation) -%}
    {%- set placeholder = '__rows_of_latest_run__' -%}
    {%- set scope = var('data_tests_scope') -%}
    {%- if scope not in ('all', 'latest_run') -%}
        {{ exceptions.raise_compiler_error(
            "var data_tests_scope must be 'all' or 'latest_run', not '" ~ scope ~ "'") }}
    {%- endif -%}
    {%- set where = config.get('where') -%}
    {%- if where and placeholder in where -%}
        {#- The graph and the test's final config exist once parsing is done. -#}
        {%- if execute -%}
            {{ check_rows_of_latest_run_is_sound(where | trim == placeholder) }}
        {%- endif -%}
        {%- if scope == 'all' -%}
            {{ return(relation) }}
        {%- endif -%}
        {%- set rows_of_latest_run =
            '_loaded_through_at = (select max(_loaded_through_at) from ' ~ relation ~ ')' -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ rows_of_latest_run ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) }}
{%- endmacro %}


{% macro check_rows_of_latest_run_is_sound(placeholder_is_whole_where) -%}
    {%- set tested = graph.nodes.get(model.attached_node, {}) -%}
    {%- set thresholds = (config.get('severity') | lower, config.get('error_if')) -%}
    {%- set problem =
        'the placeholder must be the whole where' if not placeholder_is_whole_where
        else 'the tested model is not incremental'
            if tested.get('config', {}).get('materialized') != 'incremental'
        else 'the test is not an error on any failing row' if thresholds != ('error', '!= 0')
        else none -%}
    {%- if problem -%}
        {{ exceptions.raise_compiler_error(
            model.unique_id ~ ': where __rows_of_latest_run__, but ' ~ problem) }}
    {%- endif -%}
{%- endmacro %}
