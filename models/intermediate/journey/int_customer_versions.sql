with

customer_versions as (

    select * from {{ ref('base_crm__customer_versions') }}

),

versions_in_order as (

    select
        *,
        lead(updated_at) over (partition by customer_id order by updated_at) as next_updated_at,
        lag(email) over (partition by customer_id order by updated_at) as previous_email,
        row_number() over (partition by customer_id order by updated_at) as version_number
    from customer_versions

),

final as (

    select
        {{ dbt.hash(dbt.concat(['customer_id', "'|'", dbt.cast('updated_at', api.Column.translate_type('string'))])) }}
            as customer_version_id,
        customer_id,
        email,
        full_name,
        region,
        campaign_id,
        signed_up_at,
        marketing_opt_in,
        updated_at,
        version_number,
        updated_at as valid_from,
        next_updated_at as valid_to,
        next_updated_at is null as is_current,
        previous_email
    from versions_in_order

)

select * from final
