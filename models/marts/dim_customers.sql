with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
),

defections as (
    select * from {{ ref('fct_defections') }}
),

stickiness as (
    select * from {{ ref('int_customer_stickiness') }}
),

poor_experiences as (
    select * from {{ ref('int_poor_experiences') }}
),

complaints as (
    select * from {{ ref('int_complaints') }}
),

billing_totals as (
    select * from {{ ref('int_customer_billing_totals') }}
),

risk_scores as (
    select * from {{ ref('int_customer_risk_scores') }}
),

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

episode_summary as (
    select
        customer_id,
        min(episode_started_at) as first_subscription_started_at,
        count(*) as n_episodes,
        max(case when is_defection then 0 else 1 end) = 1 as is_active,
        max(episode_ended_at) as last_defected_at
    from customer_episodes
    group by customer_id
),

defection_summary as (
    select
        customer_id,
        count(*) as n_defections,
        max(case when is_hidden then 1 else 0 end) = 1 as is_hidden_defector
    from defections
    group by customer_id
),

poor_experience_summary as (
    select customer_id, count(*) as n_poor_experiences
    from poor_experiences
    group by customer_id
),

complaint_summary as (
    select customer_id, count(*) as n_complaints
    from complaints
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.region,
        customers.campaign_id,
        customers.marketing_opt_in,
        customers.signed_up_at,
        episode_summary.first_subscription_started_at,
        cast({{ dbt.datediff('customers.signed_up_at',
            'case when coalesce(episode_summary.is_active, false) then warehouse_as_of.as_of_at'
            ~ ' else coalesce(episode_summary.last_defected_at, warehouse_as_of.as_of_at) end', 'day') }}
            as integer) as tenure_days,
        case
            when episode_summary.is_active then 'active'
            when episode_summary.customer_id is not null then 'defected'
            else 'never_subscribed'
        end as status,
        cast(coalesce(stickiness.monthly_value_minor, 0) as bigint) as current_monthly_value_minor,
        cast(coalesce(billing_totals.lifetime_billed_minor, 0) as bigint) as lifetime_billed_minor,
        cast(coalesce(billing_totals.lifetime_paid_minor, 0) as bigint) as lifetime_paid_minor,
        cast(coalesce(stickiness.stickiness_score, 0) as integer) as stickiness_score,
        coalesce(stickiness.stickiness_band, 'low') as stickiness_band,
        cast(coalesce(episode_summary.n_episodes, 0) as integer) as n_episodes,
        cast(coalesce(defection_summary.n_defections, 0) as integer) as n_defections,
        coalesce(defection_summary.n_defections, 0) > 0 as has_defected,
        coalesce(defection_summary.is_hidden_defector, false) as is_hidden_defector,
        coalesce(risk_scores.is_above_threshold, false) as is_at_risk,
        risk_scores.risk_score,
        coalesce(episode_summary.n_episodes, 0) > 1 as is_won_back,
        cast(coalesce(poor_experience_summary.n_poor_experiences, 0) as integer) as n_poor_experiences,
        cast(coalesce(complaint_summary.n_complaints, 0) as integer) as n_complaints,
        coalesce(complaint_summary.n_complaints, 0) > 0 as has_complained
    from customers
    cross join warehouse_as_of
    left join episode_summary
        on customers.customer_id = episode_summary.customer_id
    left join defection_summary
        on customers.customer_id = defection_summary.customer_id
    left join stickiness
        on customers.customer_id = stickiness.customer_id
    left join billing_totals
        on customers.customer_id = billing_totals.customer_id
    left join poor_experience_summary
        on customers.customer_id = poor_experience_summary.customer_id
    left join complaint_summary
        on customers.customer_id = complaint_summary.customer_id
    left join risk_scores
        on customers.customer_id = risk_scores.customer_id
)

select * from final
