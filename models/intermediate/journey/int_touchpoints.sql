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
-- Incremental by customer: a run rebuilds the customers of the change set (int_changed_customers) that
-- changed since this model's last run; delete+insert on customer_id replaces all their touchpoints, and the
-- post-hook removes those of changed customers left with none. Everyone else's rows are not rewritten.
{%- set in_scope -%}
    {% if is_incremental() %}where customer_id in (select customer_id from customers_in_scope){% endif %}
{%- endset %}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

{% if is_incremental() %}
customers_in_scope as (

    {{ changed_customers_since_last_run() }}

),
{% endif %}


customers as (

    select * from {{ ref('stg_crm__customers') }} {{ in_scope }}

),

campaigns as (

    select * from {{ ref('stg_crm__campaigns') }}

),

subscriptions as (

    select * from {{ ref('stg_crm__subscriptions') }} {{ in_scope }}

),

appointments as (

    select * from {{ ref('stg_crm__appointments') }} {{ in_scope }}

),

cases as (

    select * from {{ ref('stg_crm__cases') }} {{ in_scope }}

),

contacts as (

    select * from {{ ref('stg_crm__contacts') }} {{ in_scope }}

),

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

payments as (

    select * from {{ ref('stg_billing__payments') }}

),

adjustments as (

    select * from {{ ref('stg_billing__adjustments') }}

),

accounts as (

    select * from {{ ref('int_billing_accounts_matched_to_customers') }} {{ in_scope }}

),

survey_responses as (

    select * from {{ ref('int_survey_responses_matched_to_customers') }} {{ in_scope }}

),

-- The campaign's promise reached the customer no later than their sign-up.
campaign_offers as (

    select
        customers.customer_id,
        customers.signed_up_at as occurred_at,
        'marketing' as stage,
        'marketing_sales' as silo,
        'campaign_offer' as touchpoint_type,
        'stg_crm__campaigns' as source_table,
        campaigns.campaign_id as source_id,
        'campaign ' || campaigns.campaign_name || ' promised ' || campaigns.promised_plan_code || ' at '
            || {{ format_money('campaigns.promised_monthly_price_minor', 'campaigns.currency') }} as description
    from customers
    inner join campaigns
        on customers.campaign_id = campaigns.campaign_id

),

subscription_starts as (

    select
        customer_id,
        started_at as occurred_at,
        'sign_up' as stage,
        'marketing_sales' as silo,
        'subscription_started' as touchpoint_type,
        'stg_crm__subscriptions' as source_table,
        subscription_id as source_id,
        product || ' ' || plan_code || ' started' as description
    from subscriptions

),

visits as (

    select
        customer_id,
        coalesce(arrived_at, window_start_at) as occurred_at,
        'installation' as stage,
        'installation' as silo,
        'appointment' as touchpoint_type,
        'stg_crm__appointments' as source_table,
        appointment_id as source_id,
        appointment_type || ' visit ' || status as description
    from appointments

),

care_contacts as (

    select
        customer_id,
        contact_at as occurred_at,
        'care' as stage,
        'care' as silo,
        'contact' as touchpoint_type,
        'stg_crm__contacts' as source_table,
        contact_id as source_id,
        channel || ' contact on case ' || case_id as description
    from contacts

),

-- Complaint cases are their own stage; other cases open the care conversation.
opened_cases as (

    select
        customer_id,
        opened_at as occurred_at,
        case when case_type = 'COMPLAINT' then 'complaint' else 'care' end as stage,
        'care' as silo,
        case when case_type = 'COMPLAINT' then 'complaint_case' else 'case_opened' end as touchpoint_type,
        'stg_crm__cases' as source_table,
        case_id as source_id,
        case_type || ' case via ' || channel as description
    from cases

),

issued_invoices as (

    select
        accounts.customer_id,
        cast(invoices.invoice_date as {{ dbt.type_timestamp() }}) as occurred_at,
        'billing' as stage,
        'billing' as silo,
        'invoice' as touchpoint_type,
        'stg_billing__invoices' as source_table,
        invoices.invoice_id as source_id,
        'invoice of ' || {{ format_money('invoices.total_minor', 'invoices.currency') }} as description
    from invoices
    inner join accounts
        on invoices.account_number = accounts.account_number

),

payment_attempts as (

    select
        accounts.customer_id,
        payments.attempted_at as occurred_at,
        'payment' as stage,
        'billing' as silo,
        'payment_attempt' as touchpoint_type,
        'stg_billing__payments' as source_table,
        payments.payment_id as source_id,
        'payment ' || payments.status || coalesce(' (' || payments.failure_code || ')', '') as description
    from payments
    inner join accounts
        on payments.account_number = accounts.account_number

),

posted_adjustments as (

    select
        accounts.customer_id,
        adjustments.created_at as occurred_at,
        'billing' as stage,
        'billing' as silo,
        'adjustment' as touchpoint_type,
        'stg_billing__adjustments' as source_table,
        adjustments.adjustment_id as source_id,
        adjustments.reason_code || ' adjustment of '
            || {{ format_money('adjustments.amount_minor', 'adjustments.currency') }} as description
    from adjustments
    inner join accounts
        on adjustments.account_number = accounts.account_number

),

survey_answers as (

    select
        customer_id,
        responded_at as occurred_at,
        'survey' as stage,
        'survey' as silo,
        'survey_response' as touchpoint_type,
        'stg_survey__responses' as source_table,
        response_id as source_id,
        coalesce(survey_type, 'unknown survey') || ' score '
            || cast(score as {{ dbt.type_string() }}) as description
    from survey_responses

),

unioned as (

    select * from campaign_offers
    union all
    select * from subscription_starts
    union all
    select * from visits
    union all
    select * from care_contacts
    union all
    select * from opened_cases
    union all
    select * from issued_invoices
    union all
    select * from payment_attempts
    union all
    select * from posted_adjustments
    union all
    select * from survey_answers

),

-- Only customers the CRM knows have a journey; unmatched rows stay visible in the identity models.
touchpoints as (

    select
        {{ dbt.hash(dbt.concat(['unioned.source_table', "'|'", 'unioned.source_id', "'|'", 'unioned.customer_id'])) }}
            as touchpoint_id,
        unioned.customer_id,
        unioned.occurred_at,
        unioned.stage,
        unioned.silo,
        unioned.touchpoint_type,
        unioned.source_table,
        unioned.source_id,
        unioned.description
    from unioned
    inner join customers
        on unioned.customer_id = customers.customer_id

),

final as (

    select
        touchpoints.*,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from touchpoints
    cross join warehouse_as_of

)

select * from final
