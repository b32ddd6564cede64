{{ config(**staging_incremental_config(['subscription_id', 'updated_at'])) }}
with

source as (

    {{ staging_source(source('crm', 'subscriptions'), ['subscription_id', 'updated_at'], source_key=['subscription_id', to_utc('updated_at')]) }}

),

ranked_deliveries as (

    select
        *,
        {{ delivery_rank(['subscription_id', to_utc('updated_at')]) }} as delivery_rank
    from source

),

deduplicated as (

    select * from ranked_deliveries
    where delivery_rank = 1

),

plans as (

    select * from {{ ref('plans') }}

),

cancel_reasons as (

    select * from {{ ref('cancel_reasons') }}

),

cleaned as (

    select
        subscription_id,
        customer_id,
        bundle_id,
        {{ normalize_code('product') }} as product,
        {{ normalize_code('plan_code') }} as plan_code,
        {{ normalize_code('contract_type') }} as contract_type,
        cast(contract_ends_on as date) as contract_ends_on,
        cast(monthly_price_minor as {{ dbt.type_bigint() }}) as monthly_price_minor,
        {{ normalize_code('currency') }} as currency,
        {{ normalize_code('promo_code') }} as promo_code,
        {{ normalize_code('status') }} as status,
        {{ to_utc('started_at') }} as started_at,
        {{ to_utc('cancelled_at') }} as cancelled_at,
        {{ normalize_code('cancel_type') }} as cancel_type,
        {{ normalize_code('cancel_reason_code') }} as cancel_reason_code,
        nullif(trim(cancel_reason_text), '') as cancel_reason_text,
        {{ to_utc('updated_at') }} as updated_at,
        {{ staging_bookkeeping_columns(source('crm', 'subscriptions'), 'deduplicated') }}
    from deduplicated

),

-- The seed holds up to a handful of pipe-separated keywords per reason; split_part keeps this portable.
keyword_positions as (

    {% for part_number in range(1, 11) %}
    select {{ part_number }} as part_number
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

reason_keywords as (

    select
        cancel_reasons.cancel_reason_code,
        {{ dbt.split_part('cancel_reasons.keywords', "'|'", 'keyword_positions.part_number') }} as keyword
    from cancel_reasons
    cross join keyword_positions
    where cancel_reasons.keywords is not null

),

-- A text naming two reasons gets the one it mentions first (then the longer, more specific keyword).
text_matches as (

    select
        cleaned.subscription_id,
        cleaned.updated_at,
        reason_keywords.cancel_reason_code,
        row_number() over (
            partition by cleaned.subscription_id, cleaned.updated_at
            order by
                {{ dbt.position('reason_keywords.keyword', 'lower(cleaned.cancel_reason_text)') }},
                {{ dbt.length('reason_keywords.keyword') }} desc,
                reason_keywords.cancel_reason_code
        ) as match_rank
    from cleaned
    inner join reason_keywords
        on {{ dbt.position('reason_keywords.keyword', 'lower(cleaned.cancel_reason_text)') }} > 0
    where cleaned.cancel_reason_code is null
        and reason_keywords.keyword != ''

),

final as (

    select
        cleaned.*,
        plans.tier as plan_tier,
        case
            when cleaned.cancel_reason_code is not null and code_reasons.cancel_reason_code is not null
                then 'code'
            when cleaned.cancel_reason_code is not null then 'unknown_code'
            when text_matches.cancel_reason_code is not null then 'keyword'
            when cleaned.cancel_reason_text is not null then 'unmatched_text'
            when cleaned.status = 'CANCELLED' then 'missing'
        end as reason_source,
        case
            when cleaned.cancel_reason_code is not null
                then coalesce(code_reasons.cancel_reason_code, 'UNKNOWN')
            when text_matches.cancel_reason_code is not null then text_matches.cancel_reason_code
            when cleaned.cancel_reason_text is not null then 'OTHER'
        end as mapped_cancel_reason_code
    from cleaned
    left join plans
        on cleaned.plan_code = plans.plan_code
    left join cancel_reasons as code_reasons
        on cleaned.cancel_reason_code = code_reasons.cancel_reason_code
    left join text_matches
        on cleaned.subscription_id = text_matches.subscription_id
        and cleaned.updated_at = text_matches.updated_at
        and text_matches.match_rank = 1

),

with_categories as (

    select
        final.*,
        case
            when final.mapped_cancel_reason_code = 'UNKNOWN' then 'unknown'
            else mapped_reasons.reason_category
        end as reason_category,
        case
            when final.mapped_cancel_reason_code = 'UNKNOWN' then 'unknown'
            else mapped_reasons.stated_silo
        end as stated_silo
    from final
    left join cancel_reasons as mapped_reasons
        on final.mapped_cancel_reason_code = mapped_reasons.cancel_reason_code

)

select * from with_categories
