with

customer_versions as (

    select * from {{ ref('base_crm__customer_versions') }}

),

ranked_versions as (

    select
        *,
        row_number() over (partition by customer_id order by updated_at desc) as version_rank
    from customer_versions

),

final as (

    select
        customer_id,
        email,
        full_name,
        region,
        campaign_id,
        signed_up_at,
        marketing_opt_in,
        updated_at
    from ranked_versions
    where version_rank = 1

)

select * from final
