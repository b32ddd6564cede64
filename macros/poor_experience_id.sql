{# A stable key for a rule hit: the same rule on the same evidence gets the same id in every build. #}
{% macro poor_experience_id(rule_id_column, evidence_id_column) -%}
    {{ dbt.hash(dbt.concat([rule_id_column, "'|'", evidence_id_column])) }}
{%- endmacro %}
