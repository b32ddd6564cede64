with

responses as (

    select * from {{ ref('int_survey_responses_matched_to_customers') }}

),

low_csat_contact_rule as ({{ poor_experience_rule('low_csat_contact') }}),

low_csat_visit_rule as ({{ poor_experience_rule('low_csat_visit') }}),

nps_detractor_rule as ({{ poor_experience_rule('nps_detractor') }}),

-- Out-of-range scores are data errors, not opinions, and unmatched responses belong to nobody we know.
usable_responses as (

    select *
    from responses
    where match_status = 'matched'
        and is_score_in_range

),

low_csat_contacts as (

    select
        usable_responses.customer_id,
        low_csat_contact_rule.rule_id,
        low_csat_contact_rule.silo,
        low_csat_contact_rule.kind,
        usable_responses.responded_at as occurred_at,
        'stg_survey__responses' as evidence_table,
        usable_responses.response_id as evidence_id,
        'CSAT ' || cast(usable_responses.score as {{ dbt.type_string() }}) || ' after a contact' as evidence
    from usable_responses
    cross join low_csat_contact_rule
    where usable_responses.survey_type = 'CSAT_CONTACT'
        and usable_responses.score <= low_csat_contact_rule.threshold

),

low_csat_visits as (

    select
        usable_responses.customer_id,
        low_csat_visit_rule.rule_id,
        low_csat_visit_rule.silo,
        low_csat_visit_rule.kind,
        usable_responses.responded_at as occurred_at,
        'stg_survey__responses' as evidence_table,
        usable_responses.response_id as evidence_id,
        'CSAT ' || cast(usable_responses.score as {{ dbt.type_string() }}) || ' after a visit' as evidence
    from usable_responses
    cross join low_csat_visit_rule
    where usable_responses.survey_type = 'CSAT_VISIT'
        and usable_responses.score <= low_csat_visit_rule.threshold

),

nps_detractors as (

    select
        usable_responses.customer_id,
        nps_detractor_rule.rule_id,
        nps_detractor_rule.silo,
        nps_detractor_rule.kind,
        usable_responses.responded_at as occurred_at,
        'stg_survey__responses' as evidence_table,
        usable_responses.response_id as evidence_id,
        'NPS ' || cast(usable_responses.score as {{ dbt.type_string() }}) as evidence
    from usable_responses
    cross join nps_detractor_rule
    where usable_responses.survey_type = 'NPS'
        and usable_responses.score <= nps_detractor_rule.threshold

),

final as (

    select * from low_csat_contacts
    union all
    select * from low_csat_visits
    union all
    select * from nps_detractors

)

select * from final
