{{ config(**staging_incremental_config('contact_id')) }}
with

source as (

    {{ staging_source(source('crm', 'contacts'), 'contact_id') }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['contact_id']) }} as delivery_rank
    from source

),

channel_codes as (

    select * from {{ ref('channel_codes') }}

),

final as (

    select
        ranked_deliveries.contact_id,
        ranked_deliveries.case_id,
        ranked_deliveries.customer_id,
        {{ normalize_code('ranked_deliveries.channel') }} as channel_code,
        coalesce(channel_codes.channel, 'unknown') as channel,
        {{ to_utc('ranked_deliveries.contact_at') }} as contact_at,
        cast(ranked_deliveries.wait_seconds as integer) as wait_seconds,
        cast(ranked_deliveries.handle_seconds as integer) as handle_seconds,
        cast(ranked_deliveries.transfer_count as integer) as transfer_count,
        ranked_deliveries.agent_id,
        {{ normalize_code('ranked_deliveries.promise_code') }} as promise_code,
        {{ to_utc('ranked_deliveries.promise_due_at') }} as promise_due_at,
        cast(ranked_deliveries.quoted_amount_minor as {{ dbt.type_bigint() }}) as quoted_amount_minor,
        {{ staging_bookkeeping_columns(source('crm', 'contacts'), 'ranked_deliveries') }}
    from ranked_deliveries
    left join channel_codes
        on {{ normalize_code('ranked_deliveries.channel') }} = channel_codes.source_code
    where ranked_deliveries.delivery_rank = 1

)

select * from final
