{# The one place the stickiness score (0-3, docs/definitions.md) becomes a band, and the band's sort key. #}
{% macro stickiness_band(score) -%}
    case
        when {{ score }} >= 2 then 'high'
        when {{ score }} = 1 then 'medium'
        else 'low'
    end
{%- endmacro %}

{# 1 low, 2 medium, 3 high: reports order bands by it (an alphabetical sort reads high, low, medium). #}
{% macro stickiness_band_order(band) -%}
    case {{ band }}
        when 'low' then 1
        when 'medium' then 2
        when 'high' then 3
    end
{%- endmacro %}

{# Every band with its sort key, for reports that list each band even when no customer is in it. #}
{% macro stickiness_bands() -%}
    (
        select 'low' as stickiness_band, 1 as stickiness_band_order
        union all select 'medium', 2
        union all select 'high', 3
    )
{%- endmacro %}
