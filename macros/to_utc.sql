{#
  Raw timestamps arrive with mixed offsets; from staging on everything is a naive UTC timestamp so that
  comparisons and date parts never depend on the session time zone.
#}
{% macro to_utc(column) -%}
    {{ return(adapter.dispatch('to_utc')(column)) }}
{%- endmacro %}

{% macro duckdb__to_utc(column) -%}
    timezone('UTC', cast({{ column }} as timestamptz))
{%- endmacro %}

{# Spark stores timestamps as UTC instants already; to_utc_timestamp would shift them a second time. #}
{% macro default__to_utc(column) -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
