{%- set rule_hit_columns -%}
customer_id, rule_id, silo, kind, occurred_at, evidence_table, evidence_id, evidence
{%- endset -%}
with

installation as (

    select * from {{ ref('int_poor_experiences__installation') }}

),

care as (

    select * from {{ ref('int_poor_experiences__care') }}

),

-- The billing and long-outage rule models are incremental and carry bookkeeping columns (_loaded_through_at,
-- _rule_threshold): only the rule-hit columns the other silos' models have.
billing as (

    {% for rule_model in [
        'int_poor_experiences__billing_promo_not_applied',
        'int_poor_experiences__billing_unquoted_fee',
        'int_poor_experiences__billing_overcharge',
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
        unioned.evidence
    from unioned
    inner join customers
        on unioned.customer_id = customers.customer_id

)

select * from final
