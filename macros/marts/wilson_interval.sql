{#
  95% Wilson score interval for a proportion successes / trials. Used instead of the normal approximation
  because the poor-experience levels can have few customers and rates near 0 or 1, where the normal
  interval leaves [0, 1]. Returns null bounds when trials = 0.
#}
{% macro wilson_interval_lower(successes, trials, z=1.96) -%}
    {{ return(wilson_bound(successes, trials, z, '-')) }}
{%- endmacro %}

{% macro wilson_interval_upper(successes, trials, z=1.96) -%}
    {{ return(wilson_bound(successes, trials, z, '+')) }}
{%- endmacro %}

{% macro wilson_bound(successes, trials, z, sign) -%}
    case when {{ trials }} > 0 then
        (
            (cast({{ successes }} as {{ type_double() }}) / {{ trials }}) + {{ z }} * {{ z }} / (2.0 * {{ trials }})
            {{ sign }} {{ z }} * sqrt(
                (cast({{ successes }} as {{ type_double() }}) / {{ trials }})
                * (1 - cast({{ successes }} as {{ type_double() }}) / {{ trials }}) / {{ trials }}
                + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ trials }})
    end
{%- endmacro %}
