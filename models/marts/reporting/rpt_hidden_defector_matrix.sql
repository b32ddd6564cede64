-- The classic matrix over every customer's whole history: poor experience yes/no x complained yes/no.
with

customers as (
    select * from {{ ref('dim_customers') }}
),

cells as (
    select
        n_poor_experiences > 0 as had_poor_experience,
        has_complained,
        count(*) as customers,
        sum(case when has_defected then 1 else 0 end) as customers_defected
    from customers
    group by n_poor_experiences > 0, has_complained
),

all_cells as (
    select true as had_poor_experience, true as has_complained
    union all select true, false
    union all select false, true
    union all select false, false
),

final as (
    select
        all_cells.had_poor_experience,
        all_cells.has_complained,
        all_cells.had_poor_experience and not all_cells.has_complained as is_hidden_defector_cell,
        cast(coalesce(cells.customers, 0) as integer) as customers,
        cast(coalesce(cells.customers_defected, 0) as integer) as customers_defected,
        {{ defection_rate_columns('cells.customers_defected', 'cells.customers') }}
    from all_cells
    left join cells
        on all_cells.had_poor_experience = cells.had_poor_experience
        and all_cells.has_complained = cells.has_complained
)

select * from final
