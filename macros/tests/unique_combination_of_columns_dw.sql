{# Fails for every combination of `columns` that occurs more than once (dbt_utils is unavailable here). #}
{% test unique_combination_of_columns_dw(model, columns) %}

with

grouped as (
    select {{ columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
),

final as (
    select * from grouped where n_rows > 1
)

select * from final

{% endtest %}
