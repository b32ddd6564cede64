{# Source systems are inconsistent about code case and padding; seeds hold codes in upper case. #}
{% macro normalize_code(column) -%}
    nullif(upper(trim({{ column }})), '')
{%- endmacro %}
