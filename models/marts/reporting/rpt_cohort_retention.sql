-- Monthly sign-up cohorts and their survival: the share of the cohort active exactly m months after each
-- customer's sign-up, for every m the data can already observe for the whole cohort. Only which offsets are
-- observable depends on the as-of date: the active intervals come from int_customer_active_month_intervals.
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

-- Each customer's active intervals in months since sign-up, which do not depend on the as-of date.
active_intervals as (
    select * from {{ ref('int_customer_active_month_intervals') }}
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
    from {{ month_offset_series(0, cohort_max_month_offset()) }} as generated
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
