{%- set rule_hit_columns -%}
customer_id, rule_id, silo, kind, occurred_at, evidence_table, evidence_id, evidence
{%- endset %}
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
-- Incremental by customer: a run rebuilds the hits of the customers of the change set (int_changed_customers)
-- that changed since this model's last run; delete+insert on customer_id replaces all their hits, and the
-- post-hook removes those of changed customers left with none.
with

installation as (

    select * from {{ ref('int_poor_experiences__installation') }}

),

care as (

    select {{ rule_hit_columns }} from {{ ref('int_poor_experiences__care') }}

),

-- The care, billing and long-outage rule models are incremental and carry bookkeeping columns (_loaded_through_at,
-- _rule_threshold): only the rule-hit columns the other silos' models have.
billing as (

    {% for rule_model in [
        'int_poor_experiences__billing_invoice_lines',
        'int_poor_experiences__billing_company_payment_failure',
    ] %}
    select {{ rule_hit_columns }} from {{ ref(rule_model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

marketing as (

    select * from {{ ref('int_poor_experiences__marketing') }}

),

network as (

    select * from {{ ref('int_poor_experiences__network') }}

    union all

    select {{ rule_hit_columns }} from {{ ref('int_poor_experiences__network_long_outage') }}

),

survey as (

    select * from {{ ref('int_poor_experiences__survey') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}

),

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

unioned as (

    select * from installation
    union all
    select * from care
    union all
    select * from billing
    union all
    select * from marketing
    union all
    select * from network
    union all
    select * from survey

),

-- A hit on an id the CRM does not know cannot be part of any customer's journey.
final as (

    select
        {{ poor_experience_id('unioned.rule_id', 'unioned.evidence_id') }} as poor_experience_id,
        unioned.customer_id,
        unioned.rule_id,
        unioned.silo,
        unioned.kind,
        unioned.occurred_at,
        cast(unioned.occurred_at as date) as occurred_date,
        unioned.evidence_table,
        unioned.evidence_id,
        unioned.evidence,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from unioned
    inner join customers
        on unioned.customer_id = customers.customer_id
    cross join warehouse_as_of
    {% if is_incremental() %}
    where unioned.customer_id in (select customer_id from customers)
    {% endif %}

)

select * from final
