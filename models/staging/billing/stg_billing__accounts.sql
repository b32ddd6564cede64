{{ config(**staging_incremental_config('account_number')) }}
with

source as (

    {{ staging_source(source('billing', 'accounts'), 'account_number') }}

),

-- Only the current link of an account to the CRM matters downstream, so staging keeps the latest version.
ranked as (

    select
        *,
        {{ delivery_rank(['account_number'], latest_first=[to_utc('updated_at')]) }} as version_rank
    from source

),

final as (

    select
        account_number,
        nullif(trim(crm_customer_id), '') as crm_customer_id,
        {{ normalize_email('billing_email') }} as billing_email,
        {{ normalize_code('currency') }} as currency,
        {{ to_utc('opened_at') }} as opened_at,
        {{ to_utc('updated_at') }} as updated_at,
        {{ staging_bookkeeping_columns(source('billing', 'accounts'), 'ranked') }}
    from ranked
    where version_rank = 1

)

select * from final
