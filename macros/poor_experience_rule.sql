{#
  The one rule row of seed poor_experience_rules, for a rule model to cross join: thresholds live in the
  seed only, so changing a threshold never means editing SQL.
#}
{% macro poor_experience_rule(rule_id) -%}
    select
        rule_id,
        silo,
        kind,
        cast(threshold as {{ dbt.type_numeric() }}) as threshold
    from {{ ref('poor_experience_rules') }}
    where rule_id = '{{ rule_id }}'
{%- endmacro %}
