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

{# A timestamptz at time zone 'UTC' is the naive UTC timestamp, whatever the session's time zone. #}
{% macro postgres__to_utc(column) -%}
    (cast({{ column }} as timestamptz) at time zone 'UTC')
{%- endmacro %}

{# Spark reads the lake's timestamps as instants and the spark targets set the session time zone to UTC
   (profiles.yml), so the timestamp is already UTC; to_utc_timestamp would shift it a second time. #}
{% macro spark__to_utc(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}

{% macro default__to_utc(column) -%}
    {{ exceptions.raise_compiler_error('to_utc: add ' ~ adapter.type() ~ '__to_utc for this engine') }}
{%- endmacro %}
