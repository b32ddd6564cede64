{# The one place the stickiness score (0-3, docs/definitions.md) becomes a band. #}
{% macro stickiness_band(score) -%}
    case
        when {{ score }} >= 2 then 'high'
        when {{ score }} = 1 then 'medium'
        else 'low'
    end
{%- endmacro %}
