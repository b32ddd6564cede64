{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='response_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_keys(
            'response_id',
            raw_tables=['survey__responses', 'survey__invitations', 'survey__surveys', 'crm__customers']
        ) }}"
    )
}}
-- depends_on: {{ ref('stg_loader__load_audit') }}, {{ ref('int_customer_versions') }}
{#
  Incremental by response. A response's row changes when it, its invitation or its survey is restaged, and
  also when the customer side of its e-mail addresses changes (an address changing hands or becoming
  shared). So a run matches again the responses staged since this model's last run, those whose invitation
  or survey was staged since, and those whose own or invitation's e-mail is an address of a customer version
  rewritten since (int_customer_versions rewrites every version of a changed customer); every response
  after a replaced survey or customers file, which can withdraw responses, invitations or surveys. The
  post-hook then removes the responses staging no longer has. int_identity_rematches records the matches
  that moved, for the change set.
#}
{%- set since = '_loaded_through_at > ' ~ last_run_watermark() -%}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

{% if is_incremental() %}
changed_emails as (

    select email from {{ ref('int_customer_versions') }} where {{ since }}

),

changed_invitations as (

    select invitation_id
    from {{ ref('stg_survey__invitations') }}
    where {{ since }}
        or survey_id in (select survey_id from {{ ref('stg_survey__surveys') }} where {{ since }})
        or email in (select email from changed_emails)

),

responses_to_match as (

    {{ keys_restaged_since_last_run(
        'response_id',
        ref('stg_survey__responses'),
        [ref('stg_survey__responses')],
        ['survey__responses', 'survey__invitations', 'survey__surveys', 'crm__customers']
    ) }}
    union
    select response_id
    from {{ ref('stg_survey__responses') }}
    where invitation_id in (select invitation_id from changed_invitations)
        or survey_id in (select survey_id from {{ ref('stg_survey__surveys') }} where {{ since }})
        or email in (select email from changed_emails)

),
{% endif %}

responses as (

    select * from {{ ref('stg_survey__responses') }}
    {% if is_incremental() %}
    where response_id in (select response_id from responses_to_match)
    {% endif %}

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
        end as match_status,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from responses_joined_to_customers
    cross join warehouse_as_of

)

select * from final
