{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='customer_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_keys('customer_id', raw_tables=['crm__customers']) }}"
    )
}}
-- depends_on: {{ ref('stg_loader__load_audit') }}
{#
  Incremental by customer, as int_subscription_versions: a version's number and validity depend on every
  version of its customer, so a daily run renumbers the customers with a version staged since this model's
  last run (macros/keys_restaged_since_last_run.sql; every customer after a replaced customers file).
  delete+insert replaces all versions of each such customer; after a replaced customers file the post-hook
  removes the customers staging no longer has. Keyed on what staging restaged rather than on the change set
  (int_changed_customers): the identity matchers read this model and the change set reads them.
#}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

customer_versions as (

    select * from {{ ref('base_crm__customer_versions') }}
    {% if is_incremental() %}
    where customer_id in (
        {{ keys_restaged_since_last_run(
            'customer_id',
            ref('base_crm__customer_versions'),
            [ref('base_crm__customer_versions')],
            ['crm__customers']
        ) }}
    )
    {% endif %}

),

versions_in_order as (

    select
        *,
        lead(updated_at) over (partition by customer_id order by updated_at) as next_updated_at,
        lag(email) over (partition by customer_id order by updated_at) as previous_email,
        row_number() over (partition by customer_id order by updated_at) as version_number
    from customer_versions

),

final as (

    select
        {{ dbt.hash(dbt.concat(['customer_id', "'|'", dbt.cast('updated_at', api.Column.translate_type('string'))])) }}
            as customer_version_id,
        customer_id,
        email,
        full_name,
        region,
        campaign_id,
        signed_up_at,
        marketing_opt_in,
        updated_at,
        version_number,
        updated_at as valid_from,
        next_updated_at as valid_to,
        next_updated_at is null as is_current,
        previous_email,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from versions_in_order
    cross join warehouse_as_of

)

select * from final
