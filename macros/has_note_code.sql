{#
  True when a semicolon-separated code list holds `code` as a whole item (so OK never matches NOT_OK).
  Plain string functions keep it portable across warehouses.
#}
{% macro has_note_code(column, code) -%}
    coalesce(
        (';' || replace(upper({{ column }}), ' ', '') || ';') like '%;{{ code | upper }};%',
        false
    )
{%- endmacro %}
