{#
  A relation with one integer column month_offset from `start` to `stop` inclusive (dbt_utils is
  unavailable here), from each engine's series function.
#}
{% macro month_offset_series(start, stop) -%}
    {{ return(adapter.dispatch('month_offset_series')(start, stop)) }}
{%- endmacro %}

{% macro duckdb__month_offset_series(start, stop) -%}
    (select range as month_offset from range({{ start }}, {{ stop }} + 1))
{%- endmacro %}

{% macro postgres__month_offset_series(start, stop) -%}
    (select generate_series({{ start }}, {{ stop }}) as month_offset)
{%- endmacro %}

{% macro spark__month_offset_series(start, stop) -%}
    (select explode(sequence({{ start }}, {{ stop }})) as month_offset)
{%- endmacro %}

{% macro default__month_offset_series(start, stop) -%}
    {{ exceptions.raise_compiler_error('month_offset_series: add ' ~ adapter.type() ~ '__month_offset_series') }}
{%- endmacro %}
