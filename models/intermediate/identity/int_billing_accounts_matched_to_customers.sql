{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='account_number',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_keys(
            'account_number', raw_tables=['billing__accounts', 'crm__customers']
        ) }}"
    )
}}
-- depends_on: {{ ref('stg_loader__load_audit') }}, {{ ref('int_customer_versions') }}
{#
  Incremental by account. A match changes when the account is restaged, and also when its candidate
  customers change on the CRM side: a customer becoming known under the account's crm_customer_id, or the
  billing e-mail changing hands. So a run matches again the accounts staged since this model's last run,
  those whose crm_customer_id names a customer staged since, and those whose billing e-mail is an address of
  a customer version rewritten since (int_customer_versions rewrites every version of a changed customer,
  so an address that became shared or changed holder is among them); every account after a replaced
  accounts or customers file, which can withdraw accounts or customers. The post-hook then removes the
  accounts staging no longer has. int_identity_rematches records the matches that moved, for the change set.
#}
{%- set rematched -%}
    {% if is_incremental() %}
    where account_number in (
        {{ keys_restaged_since_last_run(
            'account_number',
            ref('stg_billing__accounts'),
            [ref('stg_billing__accounts')],
            ['billing__accounts', 'crm__customers']
        ) }}
        union
        select account_number from {{ ref('stg_billing__accounts') }}
        where crm_customer_id in (
            select customer_id from {{ ref('stg_crm__customers') }}
            where _loaded_through_at > {{ last_run_watermark() }}
        )
            or billing_email in (
                select email from {{ ref('int_customer_versions') }}
                where _loaded_through_at > {{ last_run_watermark() }}
            )
    )
    {% endif %}
{%- endset %}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

accounts as (

    select * from {{ ref('stg_billing__accounts') }}
    {{ rematched }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

customer_emails as (

    select * from {{ ref('int_customer_emails_resolved') }}

),

-- crm_customer_id is the system's own link and wins; the billing e-mail only rescues accounts whose link
-- is empty or points at a customer the CRM does not know.
accounts_joined_to_customers as (

    select
        accounts.account_number,
        accounts.crm_customer_id,
        accounts.billing_email,
        accounts.currency,
        accounts.opened_at,
        accounts.updated_at,
        customers.customer_id as customer_id_by_link,
        customer_emails.customer_id as customer_id_by_email
    from accounts
    left join customers
        on accounts.crm_customer_id = customers.customer_id
    left join customer_emails
        on accounts.billing_email = customer_emails.email

),

final as (

    select
        account_number,
        crm_customer_id,
        billing_email,
        currency,
        opened_at,
        updated_at,
        coalesce(customer_id_by_link, customer_id_by_email) as customer_id,
        crm_customer_id is not null and customer_id_by_link is null as has_dangling_crm_customer_id,
        case
            when customer_id_by_link is not null then 'crm_customer_id'
            when customer_id_by_email is not null then 'billing_email'
            else 'none'
        end as match_method,
        case
            when coalesce(customer_id_by_link, customer_id_by_email) is not null then 'matched'
            else 'unmatched'
        end as match_status,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from accounts_joined_to_customers
    cross join warehouse_as_of

)

select * from final
