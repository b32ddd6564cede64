{#
  A relation with one integer column month_offset from `start` to `stop` inclusive (dbt_utils is
  unavailable here). DuckDB has range(); the default builds it from a small cross join.
#}
{% macro month_offset_series(start, stop) -%}
    {{ return(adapter.dispatch('month_offset_series')(start, stop)) }}
{%- endmacro %}

{% macro duckdb__month_offset_series(start, stop) -%}
    (select range as month_offset from range({{ start }}, {{ stop }} + 1))
{%- endmacro %}

{% macro default__month_offset_series(start, stop) -%}
    (select explode(sequence({{ start }}, {{ stop }})) as month_offset)
{%- endmacro %}
