with

accounts as (

    select * from {{ ref('stg_billing__accounts') }}

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
        end as match_status
    from accounts_joined_to_customers

)

select * from final
