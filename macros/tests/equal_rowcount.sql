{# Fails when the model and `compare_model` differ in row count (one failing row with both counts). #}
{% test equal_rowcount(model, compare_model) %}

with

model_rows as (
    select count(*) as n_rows from {{ model }}
),

compare_rows as (
    select count(*) as n_rows from {{ compare_model }}
),

final as (
    select
        model_rows.n_rows as model_rows,
        compare_rows.n_rows as compare_model_rows
    from model_rows
    cross join compare_rows
    where model_rows.n_rows != compare_rows.n_rows
)

select * from final

{% endtest %}
