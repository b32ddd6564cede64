{#
  Spark reads the raw tables from the lake: the Parquet files `python -m raw.lake parquet` writes, one folder
  per raw table under LAKE_DIR, partitioned by export date. An on-run-start hook (dbt_project.yml) defines
  each raw source as a view over its folder, so every dbt command on Spark sees the lake as it is now (the
  files are listed when a query reads them; a table would need its partitions repaired after each landing).
  DuckDB and PostgreSQL read schema raw where the loader or raw.lake wrote it: nothing to do.
#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- set lake = env_var('LAKE_DIR', 'data/lake') | replace('\\', '/') -%}
        {%- set schemas = [] -%}
        {%- for source in graph.sources.values() -%}
            {%- if source.schema not in schemas -%}
                {%- do run_query('create schema if not exists ' ~ source.schema) -%}
                {%- do schemas.append(source.schema) -%}
            {%- endif -%}
            {%- do run_query(
                'create or replace view ' ~ source.schema ~ '.' ~ source.identifier
                ~ ' as select * from parquet.`' ~ lake ~ '/' ~ source.identifier ~ '`') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{#
  Incremental models on Spark are rebuilt whole. Their tables are plain Parquet, which has no DELETE, and
  this project's incremental models replace keys (delete+insert, with hooks that delete). Delta Lake or
  Iceberg would allow `merge`, but need their jars on the cluster; the portable choice is a full rebuild:
  the incremental materialization builds a table, and is_incremental() is false, so models select every row.
#}
{% materialization incremental, adapter='spark' %}
    {{ return(materialization_table_spark()) }}
{% endmaterialization %}

{% macro is_incremental() -%}
    {%- if target.type == 'spark' -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(dbt.is_incremental()) }}
{%- endmacro %}


{#
  Seeds on Spark with literal values. dbt-spark's loader passes values as bindings, which the session method
  pastes into the SQL unescaped: a quote in a description breaks the statement and an empty cell becomes the
  string 'None'. Here each value is a Spark literal (null for an empty cell, quotes and backslashes escaped).
#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(column_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ types[loop.index0] }})
                    {%- else -%}
                        {%- set text = value | string | replace('\\', '\\\\') | replace("'", "\\'") -%}
                        cast('{{ text }}' as {{ types[loop.index0] }})
                    {%- endif -%}
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}
