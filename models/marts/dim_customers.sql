-- Grain: one row per CRM customer. The per-customer counts come from int_customer_summaries; only the
-- figures that move with the as-of date (tenure, current stickiness and value, risk) are computed here.
with

customers as (
    select * from {{ ref('stg_crm__customers') }}
),

-- the counts that do not depend on the as-of date, per customer
customer_summaries as (
    select * from {{ ref('int_customer_summaries') }}
),

defections as (
    select * from {{ ref('fct_defections') }}
),

stickiness as (
    select * from {{ ref('int_customer_stickiness') }}
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

hidden_defectors as (
    select distinct customer_id
    from defections
    where is_hidden
),

final as (
    select
        customers.customer_id,
        customers.region,
        customers.campaign_id,
        customers.marketing_opt_in,
        customers.signed_up_at,
        customer_summaries.first_subscription_started_at,
        cast({{ dbt.datediff('customers.signed_up_at',
            'case when coalesce(customer_summaries.is_active, false) then warehouse_as_of.as_of_at'
            ~ ' else coalesce(customer_summaries.last_defected_at, warehouse_as_of.as_of_at) end', 'day') }}
            as integer) as tenure_days,
        case
            when customer_summaries.is_active then 'active'
            when customer_summaries.n_episodes > 0 then 'defected'
            else 'never_subscribed'
        end as status,
        cast(coalesce(stickiness.monthly_value_minor, 0) as bigint) as current_monthly_value_minor,
        cast(coalesce(billing_totals.lifetime_billed_minor, 0) as bigint) as lifetime_billed_minor,
        cast(coalesce(billing_totals.lifetime_paid_minor, 0) as bigint) as lifetime_paid_minor,
        cast(coalesce(stickiness.stickiness_score, 0) as integer) as stickiness_score,
        coalesce(stickiness.stickiness_band, 'low') as stickiness_band,
        cast(coalesce(customer_summaries.n_episodes, 0) as integer) as n_episodes,
        cast(coalesce(customer_summaries.n_defections, 0) as integer) as n_defections,
        coalesce(customer_summaries.n_defections, 0) > 0 as has_defected,
        hidden_defectors.customer_id is not null as is_hidden_defector,
        coalesce(risk_scores.is_above_threshold, false) as is_at_risk,
        risk_scores.risk_score,
        coalesce(customer_summaries.n_episodes, 0) > 1 as is_won_back,
        cast(coalesce(customer_summaries.n_poor_experiences, 0) as integer) as n_poor_experiences,
        cast(coalesce(customer_summaries.n_complaints, 0) as integer) as n_complaints,
        coalesce(customer_summaries.n_complaints, 0) > 0 as has_complained
    from customers
    cross join warehouse_as_of
    left join customer_summaries
        on customers.customer_id = customer_summaries.customer_id
    left join hidden_defectors
        on customers.customer_id = hidden_defectors.customer_id
    left join stickiness
        on customers.customer_id = stickiness.customer_id
    left join billing_totals
        on customers.customer_id = billing_totals.customer_id
    left join risk_scores
        on customers.customer_id = risk_scores.customer_id
)

select * from final
