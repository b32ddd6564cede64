with

subscription_versions as (

    select * from {{ ref('int_subscription_versions') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

campaigns as (

    select * from {{ ref('stg_crm__campaigns') }}

),

offer_not_honoured_rule as ({{ poor_experience_rule('offer_not_honoured') }}),

-- The price the customer was sold at is on the subscription's first version; later repricing is billing's.
subscriptions_joined_to_campaigns as (

    select
        subscription_versions.subscription_id,
        subscription_versions.customer_id,
        subscription_versions.plan_code,
        subscription_versions.monthly_price_minor,
        subscription_versions.currency,
        subscription_versions.started_at,
        campaigns.campaign_id,
        campaigns.promised_plan_code,
        campaigns.promised_monthly_price_minor,
        campaigns.currency as promised_currency
    from subscription_versions
    inner join customers
        on subscription_versions.customer_id = customers.customer_id
    inner join campaigns
        on customers.campaign_id = campaigns.campaign_id
    where subscription_versions.version_number = 1

),

offers_not_honoured as (

    select
        subscriptions_joined_to_campaigns.customer_id,
        offer_not_honoured_rule.rule_id,
        offer_not_honoured_rule.silo,
        offer_not_honoured_rule.kind,
        subscriptions_joined_to_campaigns.started_at as occurred_at,
        'stg_crm__subscriptions' as evidence_table,
        subscriptions_joined_to_campaigns.subscription_id as evidence_id,
        'sold at ' || {{ format_money('subscriptions_joined_to_campaigns.monthly_price_minor',
            'subscriptions_joined_to_campaigns.currency') }}
            || ', campaign ' || subscriptions_joined_to_campaigns.campaign_id || ' promised '
            || {{ format_money('subscriptions_joined_to_campaigns.promised_monthly_price_minor',
                'subscriptions_joined_to_campaigns.promised_currency') }}
            as evidence
    from subscriptions_joined_to_campaigns
    cross join offer_not_honoured_rule
    where subscriptions_joined_to_campaigns.plan_code = subscriptions_joined_to_campaigns.promised_plan_code
        and subscriptions_joined_to_campaigns.monthly_price_minor
            > subscriptions_joined_to_campaigns.promised_monthly_price_minor

),

final as (

    select * from offers_not_honoured

)

select * from final
