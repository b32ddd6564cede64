{#
  Fingerprints of groups of rows, for incremental models that rebuild only the groups whose inputs changed
  (int_customer_fingerprints). Implemented for DuckDB, PostgreSQL and Spark (each built in CI by
  tests/engines); another engine needs its own implementation of each macro rather than a weaker fallback,
  so the default raises.
#}

{# Aggregates row hashes into one value that does not depend on row order and in which two equal rows do
   not cancel out (as they would with XOR): their sum, as a 128-bit integer. It must also decompose:
   fingerprint_agg over partial fingerprint_aggs equals it over the rows, because
   int_touchpoint_source_fingerprints sums each table per customer before summing the tables. #}
{% macro fingerprint_agg(row_hash_expression) -%}
    {{ return(adapter.dispatch('fingerprint_agg')(row_hash_expression)) }}
{%- endmacro %}

{% macro duckdb__fingerprint_agg(row_hash_expression) -%}
    sum({{ row_hash_expression }})
{%- endmacro %}

{% macro postgres__fingerprint_agg(row_hash_expression) -%}
    sum(cast({{ row_hash_expression }} as numeric))
{%- endmacro %}

{% macro spark__fingerprint_agg(row_hash_expression) -%}
    sum(cast({{ row_hash_expression }} as decimal(38, 0)))
{%- endmacro %}

{% macro default__fingerprint_agg(row_hash_expression) -%}
    {{ exceptions.raise_compiler_error('fingerprint_agg: add ' ~ adapter.type() ~ '__fingerprint_agg for this engine') }}
{%- endmacro %}


{# One 64-bit hash of several values (nulls included), as an unsigned integer. Given the alias of a relation
   in the FROM clause, DuckDB hashes the whole row: a change to any column, nulls included, changes it. #}
{% macro hash_values(expressions) -%}
    {{ return(adapter.dispatch('hash_values')(expressions)) }}
{%- endmacro %}

{% macro duckdb__hash_values(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{# PostgreSQL: the text of a row value (a relation alias is a composite: every column, nulls as empty) hashed
   to a signed 64-bit integer. #}
{% macro postgres__hash_values(expressions) -%}
    hashtextextended(cast(row({{ expressions | join(', ') }}) as text), 0)
{%- endmacro %}

{# Spark: xxhash64 of the values, a relation alias given as the struct of its columns. #}
{% macro spark__hash_values(expressions) -%}
    {%- set values = [] -%}
    {%- for expression in expressions -%}
        {%- set text = expression | string | trim -%}
        {%- if modules.re.fullmatch('[A-Za-z_][A-Za-z0-9_]*', text) -%}
            {%- do values.append('struct(' ~ text ~ '.*)') -%}
        {%- else -%}
            {%- do values.append(text) -%}
        {%- endif -%}
    {%- endfor -%}
    xxhash64({{ values | join(', ') }})
{%- endmacro %}

{% macro default__hash_values(expressions) -%}
    {{ exceptions.raise_compiler_error('hash_values: add ' ~ adapter.type() ~ '__hash_values for this engine') }}
{%- endmacro %}
