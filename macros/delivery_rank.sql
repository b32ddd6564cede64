{#
  Rank the deliveries of one record (identical re-deliveries and late copies): 1 = the most recent delivery,
  which carries the source system's latest knowledge of the record. Filter on `= 1` to keep one row per key.
  `latest_first` ranks by other expressions before the delivery, greatest first: a record exported once per
  version passes its version time, so the latest version wins and, among copies of it, the latest delivery.

  The export day and the line number order every delivery of a raw table: a table's rows of one export day
  come from one file (<day>/<table>.csv) of one load, since a re-delivery replaces them (raw/load), so the
  file, its load time and its day go together and two sort keys are enough. Fewer keys make the sort of
  every raw row, most of a staging model's full build, cheaper.
#}
{% macro delivery_rank(partition_by, latest_first=[]) -%}
    row_number() over (
        partition by {{ partition_by | join(', ') }}
        order by
            {%- for expression in latest_first %} {{ expression }} desc,{% endfor %} _export_date desc, _line_number desc
    )
{%- endmacro %}
