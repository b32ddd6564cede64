with

source as (

    select * from {{ source('loader', 'load_quarantine') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat(['source_file', "'|'", dbt.cast('line_number', api.Column.translate_type('string'))])) }}
            as quarantined_row_id,
        load_id,
        table_name,
        cast(export_date as date) as export_date,
        source_file,
        line_number,
        raw_line,
        reason,
        {{ to_utc('loaded_at') }} as loaded_at
    from source

)

select * from final
