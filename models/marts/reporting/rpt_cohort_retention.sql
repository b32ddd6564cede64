{%- set max_month_offset = 120 -%}
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
    from {{ month_offset_series(0, max_month_offset) }} as generated
),

-- A cohort month m is reported once every member's sign-up + m months lies on or before the as-of instant.
-- Decided per cohort (a few dozen) before members are joined: filtering every customer x offset pair
-- (121M rows at 1M customers) would be most of the model.
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

-- Who is active when, as intervals of offsets rather than one row per customer and observable offset joined
-- to the customer's subscriptions (far fewer rows to join, the same result).
-- Sign-up + m months only grows with m, so a subscription is active at the offsets m in
-- [first_offset, end_offset): from the first m whose instant is on or after its start, up to the first m
-- whose instant is on or after its cancellation (still active: past the last reported offset). The same
-- rule as per offset: started_at <= sign-up + m months < cancelled_at.
subscription_offsets as (
    -- distinct: the windows below then order each customer's intervals totally (no ties between rows)
    select distinct
        cohort_members.customer_id,
        cohort_members.cohort_month,
        greatest(
            0,
            {{ first_offset_at_or_after('cohort_members.signed_up_at', 'subscription_versions.started_at') }}
        ) as first_offset,
        coalesce(
            {{ first_offset_at_or_after('cohort_members.signed_up_at', 'subscription_versions.cancelled_at') }},
            {{ max_month_offset }} + 1
        ) as end_offset
    from cohort_members
    inner join subscription_versions
        on cohort_members.customer_id = subscription_versions.customer_id
        and subscription_versions.is_current
    where cohort_members.signed_up_at is not null
        and subscription_versions.started_at is not null
),

-- A customer's subscriptions can overlap or follow each other; merged into disjoint intervals so that each
-- customer counts once per offset (an interval starts a new island past the furthest end before it).
ordered_intervals as (
    select
        customer_id,
        cohort_month,
        first_offset,
        end_offset,
        max(end_offset) over (
            partition by customer_id
            order by first_offset, end_offset
            rows between unbounded preceding and 1 preceding
        ) as furthest_end_before
    from subscription_offsets
    where first_offset < end_offset
),

islands as (
    select
        customer_id,
        cohort_month,
        first_offset,
        end_offset,
        sum(case when furthest_end_before is null or first_offset > furthest_end_before then 1 else 0 end) over (
            partition by customer_id
            order by first_offset, end_offset
            rows between unbounded preceding and current row
        ) as island
    from ordered_intervals
),

active_intervals as (
    select
        customer_id,
        cohort_month,
        min(first_offset) as first_offset,
        max(end_offset) as end_offset
    from islands
    group by customer_id, cohort_month, island
),

-- +1 where an interval starts, -1 where it ends; the running sum over m is the cohort's active count at m.
activity_changes as (
    select cohort_month, first_offset as month_offset, 1 as change from active_intervals
    union all
    select cohort_month, end_offset, -1 from active_intervals
),

changes_per_offset as (
    select cohort_month, month_offset, sum(change) as change
    from activity_changes
    group by cohort_month, month_offset
),

cohort_sizes as (
    select cohort_month, count(*) as cohort_customers
    from cohort_members
    where cohort_month is not null
    group by cohort_month
),

final as (
    select
        observable_offsets.cohort_month,
        observable_offsets.months_since_sign_up,
        cast(cohort_sizes.cohort_customers as integer) as cohort_customers,
        cast(coalesce(sum(changes_per_offset.change), 0) as integer) as customers_active,
        cast(coalesce(sum(changes_per_offset.change), 0) as {{ type_double() }}) / cohort_sizes.cohort_customers
            as share_active
    from observable_offsets
    inner join cohort_sizes
        on observable_offsets.cohort_month = cohort_sizes.cohort_month
    left join changes_per_offset
        on observable_offsets.cohort_month = changes_per_offset.cohort_month
        and changes_per_offset.month_offset <= observable_offsets.months_since_sign_up
    group by
        observable_offsets.cohort_month,
        observable_offsets.months_since_sign_up,
        cohort_sizes.cohort_customers
)

select * from final
