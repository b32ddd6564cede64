{#
  Layers land in schemas named after them (staging, intermediate, marts, reference) rather than dbt's
  default "<target schema>_<custom>", so BI tools and the loader's `raw` schema read naturally.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
