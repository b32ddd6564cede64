{#
  The 64-bit floating-point type. dbt.type_float() is not it: on DuckDB `float` is 32-bit, and PostgreSQL
  spells it `double precision`. Contracts (data_type) name the same type per engine in the YAML.
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{% macro default__type_double() -%}
    {{ exceptions.raise_compiler_error('type_double: add ' ~ adapter.type() ~ '__type_double for this engine') }}
{%- endmacro %}


{# A double rounded to `digits` decimals, as a double. PostgreSQL rounds numerics only. #}
{% macro round_double(expression, digits) -%}
    {{ return(adapter.dispatch('round_double')(expression, digits)) }}
{%- endmacro %}

{% macro duckdb__round_double(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}

{% macro postgres__round_double(expression, digits) -%}
    cast(round(cast({{ expression }} as numeric), {{ digits }}) as double precision)
{%- endmacro %}

{% macro spark__round_double(expression, digits) -%}
    round({{ expression }}, {{ digits }})
{%- endmacro %}

{% macro default__round_double(expression, digits) -%}
    {{ exceptions.raise_compiler_error('round_double: add ' ~ adapter.type() ~ '__round_double for this engine') }}
{%- endmacro %}
