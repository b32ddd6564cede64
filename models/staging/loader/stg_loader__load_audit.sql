with

source as (

    select * from {{ source('loader', 'load_audit') }}

),

final as (

    select
        load_id,
        table_name,
        cast(export_date as date) as export_date,
        source_file,
        file_sha256,
        rows_delivered,
        rows_loaded,
        rows_quarantined,
        status,
        {{ to_utc('loaded_at') }} as loaded_at,
        message,
        status = 'refused' as is_refused
    from source

)

select * from final
