{# Fails for every group whose weights do not add up to 1 (within a rounding tolerance). #}
{% test weights_sum_to_one(model, group_by, weight_column, tolerance=0.000001) %}

with

sums as (
    select
        {{ group_by }} as group_key,
        sum({{ weight_column }}) as total_weight
    from {{ model }}
    group by {{ group_by }}
),

final as (
    select *
    from sums
    where abs(total_weight - 1) > {{ tolerance }}
)

select * from final

{% endtest %}
