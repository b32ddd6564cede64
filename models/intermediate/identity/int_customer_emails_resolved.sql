with

customer_versions as (

    select * from {{ ref('int_customer_versions') }}

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

final as (

    select
        email,
        min(customer_id) as customer_id,
        max(is_current_email) = 1 as is_current_email
    from preferred_candidates
    group by email
    having count(*) = 1

)

select * from final
