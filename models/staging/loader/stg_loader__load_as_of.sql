with

source as (

    select * from {{ source('loader', 'load_as_of') }}

),

final as (

    select
        cast(as_of_date as date) as as_of_date,
        cast(export_date as date) as export_date,
        {{ to_utc('recorded_at') }} as recorded_at
    from source

)

select * from final
