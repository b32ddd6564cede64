{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='subscription_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_keys('subscription_id', raw_tables=['crm__subscriptions']) }}"
    )
}}
-- depends_on: {{ ref('stg_loader__load_audit') }}
{#
  Incremental by subscription: a version's number and validity depend on every version of its subscription,
  so a daily run renumbers the subscriptions with a version staged since this model's last run
  (macros/keys_restaged_since_last_run.sql; every subscription after a replaced subscriptions file), not
  all of them. delete+insert replaces all versions of each such subscription (unique_key subscription_id);
  after a replaced subscriptions file the post-hook removes the subscriptions staging no longer has (the
  rows that run did not rewrite).
#}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

subscription_versions as (

    select * from {{ ref('base_crm__subscription_versions') }}
    {% if is_incremental() %}
    where subscription_id in (
        {{ keys_restaged_since_last_run(
            'subscription_id',
            ref('base_crm__subscription_versions'),
            [ref('base_crm__subscription_versions')],
            ['crm__subscriptions']
        ) }}
    )
    {% endif %}

),

versions_in_order as (

    select
        *,
        lead(updated_at) over (partition by subscription_id order by updated_at) as next_updated_at,
        lag(plan_code) over (partition by subscription_id order by updated_at) as previous_plan_code,
        lag(plan_tier) over (partition by subscription_id order by updated_at) as previous_plan_tier,
        row_number() over (partition by subscription_id order by updated_at) as version_number
    from subscription_versions

),

final as (

    select
        {{ dbt.hash(dbt.concat(['subscription_id', "'|'", dbt.cast('updated_at', api.Column.translate_type('string'))])) }}
            as subscription_version_id,
        subscription_id,
        customer_id,
        bundle_id,
        product,
        plan_code,
        plan_tier,
        contract_type,
        contract_ends_on,
        monthly_price_minor,
        currency,
        promo_code,
        status,
        started_at,
        cancelled_at,
        cancel_type,
        cancel_reason_code,
        cancel_reason_text,
        updated_at,
        version_number,
        updated_at as valid_from,
        next_updated_at as valid_to,
        next_updated_at is null as is_current,
        previous_plan_code,
        previous_plan_tier,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from versions_in_order
    cross join warehouse_as_of

)

select * from final
