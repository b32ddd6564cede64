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
    select {{ data_columns(ref('stg_crm__customers')) }} from {{ ref('stg_crm__customers') }}
),

campaigns as (
    select {{ data_columns(ref('stg_crm__campaigns')) }} from {{ ref('stg_crm__campaigns') }}
),

subscriptions as (
    select {{ data_columns(ref('stg_crm__subscriptions')) }} from {{ ref('stg_crm__subscriptions') }}
),

appointments as (
    select {{ data_columns(ref('stg_crm__appointments')) }} from {{ ref('stg_crm__appointments') }}
),

cases as (
    select {{ data_columns(ref('stg_crm__cases')) }} from {{ ref('stg_crm__cases') }}
),

contacts as (
    select {{ data_columns(ref('stg_crm__contacts')) }} from {{ ref('stg_crm__contacts') }}
),

invoices as (
    select {{ data_columns(ref('stg_billing__invoices')) }} from {{ ref('stg_billing__invoices') }}
),

payments as (
    select {{ data_columns(ref('stg_billing__payments')) }} from {{ ref('stg_billing__payments') }}
),

adjustments as (
    select {{ data_columns(ref('stg_billing__adjustments')) }} from {{ ref('stg_billing__adjustments') }}
),

accounts as (
    select account_number, customer_id from {{ ref('int_billing_accounts_matched_to_customers') }}
),

survey_responses as (
    select {{ data_columns(ref('int_survey_responses_matched_to_customers')) }} from {{ ref('int_survey_responses_matched_to_customers') }}
),

-- The hashes of each table's rows, summed per customer (per account for billing) before the tables are
-- combined: the billing rows then join to their customer as one row per account, not one per invoice or
-- payment (a smaller join, the same fingerprints). fingerprint_agg over the
-- per-table results equals it over the rows (macros/fingerprints.sql). Each table's tag keeps equal rows of
-- two tables apart.
customer_hashes as (
    select customers.customer_id, {{ hash_values(["'customer'", 'customers', 'campaigns']) }} as rows_hash
    from customers
    left join campaigns on customers.campaign_id = campaigns.campaign_id
),

billing_hashes as (

    select account_number, {{ fingerprint_agg(hash_values(["'invoice'", 'invoices'])) }} as rows_hash
    from invoices
    group by account_number

    union all

    select account_number, {{ fingerprint_agg(hash_values(["'payment'", 'payments'])) }}
    from payments
    group by account_number

    union all

    select account_number, {{ fingerprint_agg(hash_values(["'adjustment'", 'adjustments'])) }}
    from adjustments
    group by account_number

),

table_hashes as (

    select customer_id, rows_hash from customer_hashes

    union all

    select customer_id, {{ fingerprint_agg(hash_values(["'subscription'", 'subscriptions'])) }}
    from subscriptions
    group by customer_id

    union all

    select customer_id, {{ fingerprint_agg(hash_values(["'appointment'", 'appointments'])) }}
    from appointments
    group by customer_id

    union all

    select customer_id, {{ fingerprint_agg(hash_values(["'case'", 'cases'])) }}
    from cases
    group by customer_id

    union all

    select customer_id, {{ fingerprint_agg(hash_values(["'contact'", 'contacts'])) }}
    from contacts
    group by customer_id

    union all

    select customer_id, {{ fingerprint_agg(hash_values(["'survey_response'", 'survey_responses'])) }}
    from survey_responses
    group by customer_id

    union all

    select accounts.customer_id, billing_hashes.rows_hash
    from billing_hashes
    inner join accounts on billing_hashes.account_number = accounts.account_number

),

-- Only customers the CRM knows have touchpoints: rows naming an unknown customer would otherwise give a
-- fingerprint with no touchpoint to carry it, and their customer would be rebuilt on every run.
final as (
    select
        customer_id,
        {{ hash_values(["'int_touchpoints'", fingerprint_agg('rows_hash')]) }} as touchpoints_fingerprint
    from table_hashes
    where customer_id in (select customer_id from customers)
    group by customer_id
)

select * from final
