{#
  Placed between `name as` and the CTE's parenthesis: asks the engine to inline the CTE into each query that
  reads it instead of materialising it once. DuckDB materialises a CTE that is read more than once, which for a
  large input copies every row into a temporary buffer and scans that copy instead of the compressed table
  (for the invoice lines the billing rule models read, the largest input, most of their time; inlined,
  the rows are the same). Use it only where the CTE is a cheap
  projection or join of tables: inlining an expensive CTE repeats its work.
  Engines without the hint inline or decide by themselves, so the default is empty.
#}
{% macro cte_not_materialized() -%}
    {{ return(adapter.dispatch('cte_not_materialized')()) }}
{%- endmacro %}

{% macro duckdb__cte_not_materialized() -%}
    not materialized
{%- endmacro %}

{# PostgreSQL 12+ takes the same hint. #}
{% macro postgres__cte_not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro default__cte_not_materialized() -%}
{%- endmacro %}
