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
-- Incremental by customer: a run rebuilds the episodes of the customers of the change set
-- (int_changed_customers) that changed since this model's last run; delete+insert on customer_id replaces
-- all their episodes, and the post-hook removes those of changed customers left with none.
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

cancel_reasons_classified as (
    select * from {{ ref('int_cancel_reasons_classified') }}
),

subscriptions as (
    select
        subscription_versions.subscription_id,
        subscription_versions.customer_id,
        subscription_versions.started_at,
        subscription_versions.cancelled_at,
        upper(subscription_versions.cancel_type) as cancel_type,
        subscription_versions.cancel_reason_code,
        -- the stated reason: its code, else the free text classified against the vocabulary
        cancel_reasons_classified.reason_category,
        cancel_reasons_classified.stated_silo
    from subscription_versions
    left join cancel_reasons_classified
        on subscription_versions.subscription_version_id = cancel_reasons_classified.subscription_version_id
    where subscription_versions.is_current
),

-- Gaps and islands: a subscription opens a new episode when it starts after every earlier one has ended.
subscriptions_with_prior_end as (
    select
        *,
        max(coalesce(cancelled_at, cast('9999-12-31' as {{ dbt.type_timestamp() }}))) over (
            partition by customer_id
            order by started_at, subscription_id
            rows between unbounded preceding and 1 preceding
        ) as prior_max_ended_at
    from subscriptions
),

subscriptions_numbered as (
    select
        *,
        sum(case when prior_max_ended_at is null or started_at > prior_max_ended_at then 1 else 0 end) over (
            partition by customer_id
            order by started_at, subscription_id
            rows between unbounded preceding and current row
        ) as episode_number
    from subscriptions_with_prior_end
),

episodes_aggregated as (
    select
        customer_id,
        episode_number,
        min(started_at) as episode_started_at,
        -- an episode has ended only when every one of its subscriptions is cancelled
        case when count(*) = count(cancelled_at) then max(cancelled_at) end as episode_ended_at,
        count(*) as n_subscriptions
    from subscriptions_numbered
    group by customer_id, episode_number
),

-- The subscription(s) cancelled last decide type and stated reason; a coded reason wins over none.
last_cancellations as (
    select
        subscriptions_numbered.customer_id,
        subscriptions_numbered.episode_number,
        subscriptions_numbered.cancel_type,
        subscriptions_numbered.cancel_reason_code,
        subscriptions_numbered.reason_category,
        subscriptions_numbered.stated_silo,
        row_number() over (
            partition by subscriptions_numbered.customer_id, subscriptions_numbered.episode_number
            order by
                case when subscriptions_numbered.cancel_reason_code is null then 1 else 0 end,
                case when subscriptions_numbered.reason_category is null then 1 else 0 end,
                subscriptions_numbered.subscription_id
        ) as cancellation_rank
    from subscriptions_numbered
    inner join episodes_aggregated
        on subscriptions_numbered.customer_id = episodes_aggregated.customer_id
        and subscriptions_numbered.episode_number = episodes_aggregated.episode_number
        and subscriptions_numbered.cancelled_at = episodes_aggregated.episode_ended_at
),

final as (
    select
        episodes_aggregated.customer_id,
        cast(episodes_aggregated.episode_number as integer) as episode_number,
        episodes_aggregated.episode_started_at,
        episodes_aggregated.episode_ended_at,
        cast(episodes_aggregated.n_subscriptions as integer) as n_subscriptions,
        episodes_aggregated.episode_ended_at is not null as is_defection,
        case
            when episodes_aggregated.episode_ended_at is null then null
            when last_cancellations.cancel_type = 'INVOL' then 'involuntary'
            else 'voluntary'
        end as defection_type,
        last_cancellations.cancel_reason_code,
        case
            when episodes_aggregated.episode_ended_at is null then null
            else coalesce(last_cancellations.reason_category, 'unknown')
        end as reason_category,
        case
            when episodes_aggregated.episode_ended_at is null then null
            else coalesce(last_cancellations.stated_silo, 'unknown')
        end as stated_silo,
        episodes_aggregated.episode_number > 1 as is_win_back,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from episodes_aggregated
    cross join warehouse_as_of
    left join last_cancellations
        on episodes_aggregated.customer_id = last_cancellations.customer_id
        and episodes_aggregated.episode_number = last_cancellations.episode_number
        and last_cancellations.cancellation_rank = 1
)

select * from final
