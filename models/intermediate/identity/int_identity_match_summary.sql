with

billing_accounts as (

    select * from {{ ref('int_billing_accounts_matched_to_customers') }}

),

survey_responses as (

    select * from {{ ref('int_survey_responses_matched_to_customers') }}

),

counted as (

    select
        'billing_accounts' as source,
        match_status,
        match_method,
        count(*) as row_count
    from billing_accounts
    group by match_status, match_method

    union all

    select
        'survey_responses' as source,
        match_status,
        match_method,
        count(*) as row_count
    from survey_responses
    group by match_status, match_method

),

final as (

    select
        source,
        match_status,
        match_method,
        row_count as {{ adapter.quote('rows') }}
    from counted

)

select * from final
