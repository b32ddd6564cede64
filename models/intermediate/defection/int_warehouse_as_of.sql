-- The data's as-of instant: the end of the as-of day. Reports use it instead of now() so a rebuild of the
-- same data gives the same numbers. The as-of day is the one recorded for a snapshot delivery
-- (stg_loader__load_as_of, python -m raw.load --as-of) while no later export day is loaded; otherwise the
-- latest export day loaded.
with

load_batches as (
    select * from {{ ref('int_load_batches') }}
),

declared_as_of as (
    select * from {{ ref('stg_loader__load_as_of') }}
),

latest as (
    select
        max(export_date) as newest_export_date,
        max(loaded_at) as loaded_through_at
    from load_batches
),

latest_declared as (
    select
        max(recorded_at) as recorded_at
    from declared_as_of
),

declared as (
    select
        declared_as_of.as_of_date,
        declared_as_of.export_date
    from declared_as_of
    inner join latest_declared
        on declared_as_of.recorded_at = latest_declared.recorded_at
),

chosen as (
    select
        case
            when declared.export_date >= latest.newest_export_date then declared.as_of_date
            else latest.newest_export_date
        end as as_of_date,
        latest.loaded_through_at
    from latest
    left join declared
        on 1 = 1
),

final as (
    select
        as_of_date,
        cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as {{ dbt.type_timestamp() }}) as as_of_at,
        loaded_through_at
    from chosen
)

select * from final
