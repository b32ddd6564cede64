{#
  Fingerprints of groups of rows, for incremental models that rebuild only the groups whose inputs changed
  (int_customer_fingerprints). Implemented for DuckDB; another engine needs its own implementation of each
  macro rather than a weaker fallback, so the default raises.
#}

{# A 64-bit hash of a whole row, given the alias of a relation in the FROM clause: a change to any column,
   nulls included, changes it. #}
{% macro row_hash(alias) -%}
    {{ return(adapter.dispatch('row_hash')(alias)) }}
{%- endmacro %}

{% macro duckdb__row_hash(alias) -%}
    hash({{ alias }})
{%- endmacro %}

{% macro default__row_hash(alias) -%}
    {{ exceptions.raise_compiler_error('row_hash: add ' ~ adapter.type() ~ '__row_hash for this engine') }}
{%- endmacro %}


{# Aggregates row hashes into one value that does not depend on row order and in which two equal rows do
   not cancel out (as they would with XOR): their sum, as a 128-bit integer. #}
{% macro fingerprint_agg(row_hash_expression) -%}
    {{ return(adapter.dispatch('fingerprint_agg')(row_hash_expression)) }}
{%- endmacro %}

{% macro duckdb__fingerprint_agg(row_hash_expression) -%}
    sum({{ row_hash_expression }})
{%- endmacro %}

{% macro default__fingerprint_agg(row_hash_expression) -%}
    {{ exceptions.raise_compiler_error('fingerprint_agg: add ' ~ adapter.type() ~ '__fingerprint_agg for this engine') }}
{%- endmacro %}


{# One 64-bit hash of several values (nulls included), as an unsigned integer. #}
{% macro hash_values(expressions) -%}
    {{ return(adapter.dispatch('hash_values')(expressions)) }}
{%- endmacro %}

{% macro duckdb__hash_values(expressions) -%}
    hash({{ expressions | join(', ') }})
{%- endmacro %}

{% macro default__hash_values(expressions) -%}
    {{ exceptions.raise_compiler_error('hash_values: add ' ~ adapter.type() ~ '__hash_values for this engine') }}
{%- endmacro %}
