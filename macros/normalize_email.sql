{# Sources type e-mails with stray case and spaces; identity matching needs one spelling. #}
{% macro normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}
