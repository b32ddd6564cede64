{#
  What int_touchpoints rebuilds: a customer's touchpoints are a function of the source rows attributed to
  that customer (their CRM record and its campaign, subscriptions, visits, contacts, cases, survey answers,
  and the invoices, payments and adjustments of the billing accounts matched to them). This model hashes
  those rows per customer; int_touchpoints rebuilds the customers whose fingerprint differs from the one
  their touchpoints carry (customers_to_reprocess). An account re-matched to another customer changes both
  customers' fingerprints; a CRM record that arrives after its invoices changes the customer's.
  Rows are hashed on their values: bookkeeping columns (_load_id, _loaded_at, ...) are left out, so a file
  delivered again with the same values rebuilds nobody.
#}
with

customers as (
    select columns('^[^_].*$') from {{ ref('stg_crm__customers') }}
),

campaigns as (
    select columns('^[^_].*$') from {{ ref('stg_crm__campaigns') }}
),

subscriptions as (
    select columns('^[^_].*$') from {{ ref('stg_crm__subscriptions') }}
),

appointments as (
    select columns('^[^_].*$') from {{ ref('stg_crm__appointments') }}
),

cases as (
    select columns('^[^_].*$') from {{ ref('stg_crm__cases') }}
),

contacts as (
    select columns('^[^_].*$') from {{ ref('stg_crm__contacts') }}
),

invoices as (
    select columns('^[^_].*$') from {{ ref('stg_billing__invoices') }}
),

payments as (
    select columns('^[^_].*$') from {{ ref('stg_billing__payments') }}
),

adjustments as (
    select columns('^[^_].*$') from {{ ref('stg_billing__adjustments') }}
),

accounts as (
    select account_number, customer_id from {{ ref('int_billing_accounts_matched_to_customers') }}
),

survey_responses as (
    select columns('^[^_].*$') from {{ ref('int_survey_responses_matched_to_customers') }}
),

-- One hash per source row, tagged with its table so equal rows of two tables do not coincide.
row_hashes as (

    select customers.customer_id, {{ hash_values(["'customer'", 'customers', 'campaigns']) }} as row_hash
    from customers
    left join campaigns on customers.campaign_id = campaigns.campaign_id

    union all

    select customer_id, {{ hash_values(["'subscription'", 'subscriptions']) }} from subscriptions

    union all

    select customer_id, {{ hash_values(["'appointment'", 'appointments']) }} from appointments

    union all

    select customer_id, {{ hash_values(["'case'", 'cases']) }} from cases

    union all

    select customer_id, {{ hash_values(["'contact'", 'contacts']) }} from contacts

    union all

    select customer_id, {{ hash_values(["'survey_response'", 'survey_responses']) }} from survey_responses

    union all

    select accounts.customer_id, {{ hash_values(["'invoice'", 'invoices']) }}
    from invoices
    inner join accounts on invoices.account_number = accounts.account_number

    union all

    select accounts.customer_id, {{ hash_values(["'payment'", 'payments']) }}
    from payments
    inner join accounts on payments.account_number = accounts.account_number

    union all

    select accounts.customer_id, {{ hash_values(["'adjustment'", 'adjustments']) }}
    from adjustments
    inner join accounts on adjustments.account_number = accounts.account_number

),

-- Only customers the CRM knows have touchpoints: rows naming an unknown customer would otherwise give a
-- fingerprint with no touchpoint to carry it, and their customer would be rebuilt on every run.
final as (
    select
        customer_id,
        {{ hash_values(["'int_touchpoints'", fingerprint_agg('row_hash')]) }} as touchpoints_fingerprint
    from row_hashes
    where customer_id in (select customer_id from customers)
    group by customer_id
)

select * from final
