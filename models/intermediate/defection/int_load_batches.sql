-- One row per export file the loader landed; the marts take their as-of date and incremental watermark
-- from here so that runs depend on what was loaded, never on the wall clock.
with

load_audit as (
    select * from {{ ref('stg_loader__load_audit') }}
),

final as (
    select
        table_name,
        export_date,
        loaded_at,
        rows_loaded
    from load_audit
    where status in ('loaded', 'replaced', 'unchanged')
)

select * from final
