{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='customer_id',
        on_schema_change='fail'
    )
}}
-- depends_on: {{ ref('stg_loader__load_audit') }}
-- depends_on: {{ ref('stg_crm__campaigns') }}, {{ ref('stg_survey__responses') }}
-- depends_on: {{ ref('stg_survey__invitations') }}, {{ ref('stg_survey__surveys') }}
{#
  The change set: the customers whose journey may have changed since the last build, computed once per
  run for every customer-keyed incremental model (int_touchpoints, the billing rule hits, the facts). One
  row per customer, stamped with the watermark of the latest run that saw them change (_loaded_through_at,
  from int_warehouse_as_of). A model rebuilds the customers stamped after its own last run
  (changed_customers_since_last_run), so a model that missed a run catches up on the next one.

  What the loader recorded since the last build (W, the latest stamp here) names the customers:
  - staged rows written since W (every staging model stamps the rows it rebuilds with the watermark of its
    source: new rows, later deliveries, the keys of replaced files that still have a delivery), mapped to
    their customer: directly (CRM records, network events), through the billing account (invoices, lines,
    payments, adjustments), through the subscription a line bills, through the response (invitations,
    surveys), through the campaign (customers of a restaged campaign);
  - the subscriptions and invoices the keyed intermediate models recomputed since W;
  - accounts and responses matched to another customer (int_identity_rematches): both customers;
  - a file replaced since W withdraws rows whose keys may be gone from staging with no row left to name
    their customer: that run names every customer, the stored ones included (a replacement is a correction,
    rare; it costs one whole rebuild of the customer-keyed models).
  A full build names every customer: those the rows above hold directly, plus every matched account's and
  response's customer (reaching them through their billing and survey records would read every such row to
  find the same customers). Seeds and vars are not watched: after changing one, run with
  --full-refresh. Nor is the customer a CRM record (contact, case, visit, subscription) named before: a
  record re-delivered under another customer_id names its new customer only, so such a correction also
  needs --full-refresh (billing accounts and survey responses moving are seen, through
  int_identity_rematches).
#}
{%- set since = '' -%}
{%- if is_incremental() -%}
    {%- set watermark = last_run_watermark() -%}
    {%- set since = 'where _loaded_through_at > ' ~ watermark -%}
{%- endif %}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

{% if is_incremental() %}
files_replaced as (

    select 1 as replaced
    from {{ ref('stg_loader__load_audit') }}
    where status = 'replaced'
        and loaded_at > {{ watermark }}

),
{% endif %}

accounts as (

    select account_number, customer_id from {{ ref('int_billing_accounts_matched_to_customers') }}

),

responses as (

    select response_id, invitation_id, survey_id, customer_id
    from {{ ref('int_survey_responses_matched_to_customers') }}

),

restaged_invoices as (

    select invoice_id, account_number from {{ ref('stg_billing__invoices') }} {{ since }}

),

restaged_lines as (

    select invoice_id, subscription_id from {{ ref('stg_billing__invoice_lines') }} {{ since }}

),

restaged_accounts as (

    select account_number from restaged_invoices
    union
    select invoices.account_number
    from {{ ref('stg_billing__invoices') }} as invoices
    where invoices.invoice_id in (select invoice_id from restaged_lines)
    union
    select account_number from {{ ref('stg_billing__payments') }} {{ since }}
    union
    select account_number from {{ ref('stg_billing__adjustments') }} {{ since }}
    union
    select account_number from {{ ref('stg_billing__accounts') }} {{ since }}

),

changed as (

    select customer_id from {{ ref('base_crm__customer_versions') }} {{ since }}
    union
    select customer_id from {{ ref('stg_crm__customers') }} {{ since }}
    union
    select customer_id from {{ ref('stg_crm__subscriptions') }} {{ since }}
    union
    select customer_id from {{ ref('stg_crm__appointments') }} {{ since }}
    union
    select customer_id from {{ ref('stg_crm__cases') }} {{ since }}
    union
    select customer_id from {{ ref('stg_crm__contacts') }} {{ since }}
    union
    select customer_id from {{ ref('stg_network__service_events') }} {{ since }}
    union
    select customer_id from {{ ref('int_subscription_versions') }} {{ since }}
    union
    select customer_id from {{ ref('int_invoices_reconciled_to_lines') }} {{ since }}
    union
    select customer_id from {{ ref('int_identity_rematches') }} {{ since }}
    union
    select _previous_customer_id from {{ ref('int_identity_rematches') }} {{ since }}
    {% if is_incremental() %}
    union
    select customers.customer_id
    from {{ ref('stg_crm__customers') }} as customers
    where customers.campaign_id in (select campaign_id from {{ ref('stg_crm__campaigns') }} {{ since }})
    union
    select accounts.customer_id
    from accounts
    where accounts.account_number in (select account_number from restaged_accounts)
    union
    select subscriptions.customer_id
    from {{ ref('stg_crm__subscriptions') }} as subscriptions
    where subscriptions.subscription_id in (select subscription_id from restaged_lines)
    union
    select responses.customer_id
    from responses
    where responses.response_id in (select response_id from {{ ref('stg_survey__responses') }} {{ since }})
        or responses.invitation_id in (
            select invitation_id from {{ ref('stg_survey__invitations') }} {{ since }}
        )
        or responses.survey_id in (select survey_id from {{ ref('stg_survey__surveys') }} {{ since }})
    union
    select customer_id from {{ this }} where exists (select 1 from files_replaced)
    union
    select customer_id from {{ ref('stg_crm__customers') }} where exists (select 1 from files_replaced)
    union
    select customer_id from accounts where exists (select 1 from files_replaced)
    union
    select customer_id from responses where exists (select 1 from files_replaced)
    {% else %}
    union
    select customer_id from accounts
    union
    select customer_id from responses
    {% endif %}

),

final as (

    select
        changed.customer_id,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from changed
    cross join warehouse_as_of
    where changed.customer_id is not null

)

select * from final
