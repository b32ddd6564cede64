-- Monthly sign-up cohorts and their survival: the share of the cohort active exactly m months after each
-- customer's sign-up, for every m the data can already observe for the whole cohort.
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

cohort_members as (
    select
        customer_id,
        signed_up_at,
        cast({{ dbt.date_trunc('month', 'signed_up_at') }} as date) as cohort_month
    from customers
),

month_offsets as (
    select cast(generated.month_offset as integer) as months_since_sign_up
    from {{ month_offset_series(0, 120) }} as generated
),

-- A cohort month m is reported once every member's sign-up + m months lies on or before the as-of instant.
-- Decided per cohort (a few dozen) before members are joined: filtering every customer x offset pair
-- (121M rows at 1M customers) took most of the model.
cohorts as (
    select distinct cohort_month from cohort_members
),

observable_offsets as (
    select
        cohorts.cohort_month,
        month_offsets.months_since_sign_up
    from cohorts
    cross join month_offsets
    cross join warehouse_as_of
    where {{ dbt.dateadd('month', 'month_offsets.months_since_sign_up + 1', 'cohorts.cohort_month') }}
        <= warehouse_as_of.as_of_at
),

observable as (
    select
        cohort_members.customer_id,
        cohort_members.cohort_month,
        observable_offsets.months_since_sign_up,
        {{ dbt.dateadd('month', 'observable_offsets.months_since_sign_up', 'cohort_members.signed_up_at') }}
            as observed_at
    from cohort_members
    inner join observable_offsets
        on cohort_members.cohort_month = observable_offsets.cohort_month
),

activity as (
    select
        observable.customer_id,
        observable.cohort_month,
        observable.months_since_sign_up,
        max(case
            when subscription_versions.started_at <= observable.observed_at
                and (subscription_versions.cancelled_at is null
                    or subscription_versions.cancelled_at > observable.observed_at)
            then 1 else 0
        end) = 1 as is_active
    from observable
    left join subscription_versions
        on observable.customer_id = subscription_versions.customer_id
        and subscription_versions.is_current
    group by observable.customer_id, observable.cohort_month, observable.months_since_sign_up
),

final as (
    select
        cohort_month,
        months_since_sign_up,
        cast(count(*) as integer) as cohort_customers,
        cast(sum(case when is_active then 1 else 0 end) as integer) as customers_active,
        cast(sum(case when is_active then 1 else 0 end) as double) / count(*) as share_active
    from activity
    group by cohort_month, months_since_sign_up
)

select * from final
