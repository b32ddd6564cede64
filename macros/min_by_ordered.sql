{#
  The value of `value` on the row that sorts first by `order_columns` (a list, compared left to right): an
  aggregate, so "the first row per group" costs a hash aggregation instead of a window that sorts every
  group. Ties on the whole key pick any of the tied rows, so give a key that is unique within the group.
#}
{% macro min_by_ordered(value, order_columns) -%}
    {{ return(adapter.dispatch('min_by_ordered')(value, order_columns)) }}
{%- endmacro %}

{% macro duckdb__min_by_ordered(value, order_columns) -%}
    min_by({{ value }}, row({{ order_columns | join(', ') }}))
{%- endmacro %}

{# PostgreSQL has no min_by: the first element of the values ordered by the key. #}
{% macro postgres__min_by_ordered(value, order_columns) -%}
    (array_agg({{ value }} order by {{ order_columns | join(', ') }}))[1]
{%- endmacro %}

{% macro spark__min_by_ordered(value, order_columns) -%}
    min_by({{ value }}, struct({{ order_columns | join(', ') }}))
{%- endmacro %}

{% macro default__min_by_ordered(value, order_columns) -%}
    {{ exceptions.raise_compiler_error('min_by_ordered: add ' ~ adapter.type() ~ '__min_by_ordered for this engine') }}
{%- endmacro %}
