{#
  Stickiness at an instant (docs/definitions.md): +1 in a minimum-term contract, +1 with two or more active
  products, +1 with a tenure of at least sticky_tenure_months. Arguments are SQL expressions evaluated at
  that instant.
#}
{% macro stickiness_score(has_minimum_term, n_active_products, tenure_started_at, at) -%}
    (
        case when {{ has_minimum_term }} then 1 else 0 end
        + case when {{ n_active_products }} >= 2 then 1 else 0 end
        + case
            when {{ dbt.datediff(tenure_started_at, at, 'month') }} >= {{ var('sticky_tenure_months') }}
                then 1
            else 0
        end
    )
{%- endmacro %}
