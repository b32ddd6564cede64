{#
  Rank the deliveries of one record (identical re-deliveries and late copies): 1 = the most recent delivery,
  which carries the source system's latest knowledge of the record. Filter on `= 1` to keep one row per key.
#}
{% macro delivery_rank(partition_by) -%}
    row_number() over (
        partition by {{ partition_by | join(', ') }}
        order by _export_date desc, _loaded_at desc, _source_file desc, _line_number desc
    )
{%- endmacro %}
