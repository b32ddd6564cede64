-- How much of what customers said when they cancelled the warehouse understood: the latest version of every
-- cancelled subscription, by how its stated reason was found (int_cancel_reasons_classified). The share of
-- free-text reasons that matched no phrase of the vocabulary (seed cancel_reason_vocabulary) says when the
-- company's wording has drifted from it; the GX suite of this report warns above a bound.
with

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
),

cancel_reasons_classified as (
    select * from {{ ref('int_cancel_reasons_classified') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

cancellations as (
    select cancel_reasons_classified.reason_source
    from subscription_versions
    inner join cancel_reasons_classified
        on subscription_versions.subscription_version_id = cancel_reasons_classified.subscription_version_id
    where subscription_versions.is_current
        and (subscription_versions.cancelled_at is not null or subscription_versions.status = 'CANCELLED')
),

counted as (
    select
        count(*) as cancellations,
        sum(case when reason_source = 'code' then 1 else 0 end) as coded,
        sum(case when reason_source = 'unknown_code' then 1 else 0 end) as unknown_code,
        sum(case when reason_source = 'vocabulary' then 1 else 0 end) as text_classified,
        sum(case when reason_source = 'unmatched_text' then 1 else 0 end) as text_unclassified,
        sum(case when reason_source = 'missing' then 1 else 0 end) as without_reason
    from cancellations
),

final as (
    select
        warehouse_as_of.as_of_date,
        cast(counted.cancellations as integer) as cancellations,
        cast(coalesce(counted.coded, 0) as integer) as cancellations_coded,
        cast(coalesce(counted.unknown_code, 0) as integer) as cancellations_with_unknown_code,
        cast(coalesce(counted.text_classified, 0) as integer) as cancellations_text_classified,
        cast(coalesce(counted.text_unclassified, 0) as integer) as cancellations_text_unclassified,
        cast(coalesce(counted.without_reason, 0) as integer) as cancellations_without_reason,
        case when coalesce(counted.text_classified, 0) + coalesce(counted.text_unclassified, 0) > 0
            then cast(counted.text_unclassified as {{ type_double() }})
                / (counted.text_classified + counted.text_unclassified)
        end as unclassified_text_share
    from counted
    cross join warehouse_as_of
)

select * from final
