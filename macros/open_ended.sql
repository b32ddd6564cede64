{#
  The end of an open interval (a null end timestamp) as a far-future timestamp, for range joins:
  `x <= open_ended(end)` means "x is before the end, or the interval has not ended".
  Why not `(end is null or x <= end)`: an OR, or an expression mixing both sides, in a join condition makes
  DuckDB fall back from a hash join to a nested-loop join, whose cost grows with the product of both sides'
  rows instead of their sum.
#}
{% macro open_ended(timestamp_column) -%}
    coalesce({{ timestamp_column }}, cast('9999-12-31 00:00:00' as {{ dbt.type_timestamp() }}))
{%- endmacro %}
