with

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

invitations as (

    select * from {{ ref('stg_survey__invitations') }}

),

surveys as (

    select * from {{ ref('stg_survey__surveys') }}

),

customer_emails as (

    select * from {{ ref('int_customer_emails_resolved') }}

),

-- The respondent's own address is the better witness; the invitation's address covers responses typed
-- without one (or with one the CRM does not know).
responses_joined_to_customers as (

    select
        responses.response_id,
        responses.invitation_id,
        coalesce(invitations.survey_id, responses.survey_id) as survey_id,
        surveys.survey_type,
        surveys.scale_min,
        surveys.scale_max,
        responses.score,
        responses.comment,
        responses.responded_at,
        invitations.sent_at,
        invitations.trigger_type,
        invitations.trigger_id,
        responses.email as response_email,
        invitations.email as invitation_email,
        invitations.invitation_id is not null as has_known_invitation,
        by_response_email.customer_id as customer_id_by_response_email,
        by_invitation_email.customer_id as customer_id_by_invitation_email
    from responses
    left join invitations
        on responses.invitation_id = invitations.invitation_id
    -- the invitation names the survey; a company without an invitations feed names it on the response
    left join surveys
        on coalesce(invitations.survey_id, responses.survey_id) = surveys.survey_id
    left join customer_emails as by_response_email
        on responses.email = by_response_email.email
    left join customer_emails as by_invitation_email
        on invitations.email = by_invitation_email.email

),

final as (

    select
        response_id,
        invitation_id,
        survey_id,
        survey_type,
        scale_min,
        scale_max,
        score,
        coalesce(score between scale_min and scale_max, false) as is_score_in_range,
        comment,
        responded_at,
        sent_at,
        trigger_type,
        trigger_id,
        response_email,
        invitation_email,
        has_known_invitation,
        coalesce(customer_id_by_response_email, customer_id_by_invitation_email) as customer_id,
        case
            when customer_id_by_response_email is not null then 'response_email'
            when customer_id_by_invitation_email is not null then 'invitation_email'
            else 'none'
        end as match_method,
        case
            when coalesce(customer_id_by_response_email, customer_id_by_invitation_email) is not null
                then 'matched'
            else 'unmatched'
        end as match_status
    from responses_joined_to_customers

)

select * from final
