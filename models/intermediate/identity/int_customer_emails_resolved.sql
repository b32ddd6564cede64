{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='email',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_keys(
            'email', ref('int_customer_versions'), raw_tables=['crm__customers']
        ) }}"
    )
}}
-- depends_on: {{ ref('stg_loader__load_audit') }}
{#
  Incremental by address: an address's row depends only on the customer versions holding it, and
  int_customer_versions rewrites every version of a customer with a version staged since (the address they
  leave included), so a run resolves again the addresses of the versions it rewrote since this model's last
  run. The post-hook removes the addresses among them left identifying nobody (now shared), and after a
  replaced customers file those no version holds any more.
#}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

customer_versions as (

    select * from {{ ref('int_customer_versions') }}
    {% if is_incremental() %}
    where email in (
        select email from {{ ref('int_customer_versions') }}
        where _loaded_through_at > {{ last_run_watermark() }}
    )
    {% endif %}

),

customer_emails as (

    select distinct
        email,
        customer_id,
        is_current
    from customer_versions
    where email is not null

),

-- An address a customer holds today outranks one a customer used to hold; an address still shared by
-- several customers identifies nobody, so it is left out rather than guessed.
email_candidates as (

    select
        email,
        customer_id,
        max(case when is_current then 1 else 0 end) as is_current_email
    from customer_emails
    group by email, customer_id

),

email_ranks as (

    select
        *,
        max(is_current_email) over (partition by email) as email_has_current_holder
    from email_candidates

),

preferred_candidates as (

    select *
    from email_ranks
    where is_current_email = email_has_current_holder

),

resolved as (

    select
        email,
        min(customer_id) as customer_id,
        max(is_current_email) = 1 as is_current_email
    from preferred_candidates
    group by email
    having count(*) = 1

),

final as (

    select
        resolved.email,
        resolved.customer_id,
        resolved.is_current_email,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from resolved
    cross join warehouse_as_of

)

select * from final
