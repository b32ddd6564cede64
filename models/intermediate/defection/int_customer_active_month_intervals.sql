{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='customer_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_customers() }}"
    )
}}
-- depends_on: {{ ref('int_changed_customers') }}
{#
  When each customer is active, in months since their sign-up: the disjoint intervals [first_offset,
  end_offset) of offsets m at which sign-up + m months falls inside one of their subscriptions. It does not
  depend on the as-of date (rpt_cohort_retention decides which offsets are observable), so it is incremental
  by customer, as int_defections: a run rebuilds the customers of the change set that changed since this
  model's last run.
#}
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

customers as (
    select * from {{ ref('stg_crm__customers') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

cohort_members as (
    select
        customer_id,
        signed_up_at,
        cast({{ dbt.date_trunc('month', 'signed_up_at') }} as date) as cohort_month
    from customers
),

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
            {{ cohort_max_month_offset() }} + 1
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

final as (
    select
        islands.customer_id,
        islands.cohort_month,
        cast(min(islands.first_offset) as integer) as first_offset,
        cast(max(islands.end_offset) as integer) as end_offset,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from islands
    cross join warehouse_as_of
    group by islands.customer_id, islands.cohort_month, islands.island, warehouse_as_of.loaded_through_at
)

select * from final
