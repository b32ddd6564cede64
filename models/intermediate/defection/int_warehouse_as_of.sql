-- The data's as-of instant: the end of the latest export day loaded. Reports use it instead of now() so a
-- rebuild of the same data gives the same numbers.
with

load_batches as (
    select * from {{ ref('int_load_batches') }}
),

latest as (
    select
        max(export_date) as as_of_date,
        max(loaded_at) as loaded_through_at
    from load_batches
),

final as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as {{ dbt.type_timestamp() }}) as as_of_at,
        loaded_through_at
    from latest
)

select * from final
