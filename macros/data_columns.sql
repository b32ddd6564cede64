{#
  The data columns of a relation, for a select list: every column whose name does not start with an
  underscore (the load bookkeeping: _load_id, _loaded_at, ...). DuckDB selects them with a COLUMNS
  expression; other engines list them from the relation's columns when the model runs (at parse time the
  relation may not exist yet, and the list is not needed).
#}
{% macro data_columns(relation) -%}
    {{ return(adapter.dispatch('data_columns')(relation)) }}
{%- endmacro %}

{% macro duckdb__data_columns(relation) -%}
    columns('^[^_].*$')
{%- endmacro %}

{% macro default__data_columns(relation) -%}
    {%- if not execute -%}
        {{ return('*') }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) if not column.name.startswith('_') -%}
        {%- do names.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- if not names -%}
        {{ exceptions.raise_compiler_error('data_columns: ' ~ relation ~ ' has no data columns') }}
    {%- endif -%}
    {{ return(names | join(', ')) }}
{%- endmacro %}
