-- A survey answer is a poor experience when its instrument (seed survey_instruments: the company's survey
-- types, each with the rule that judges it) names a rule and the score is at or below that rule's threshold
-- (seed poor_experience_rules), on the instrument's own scale.
with

responses as (

    select * from {{ ref('int_survey_responses_matched_to_customers') }}

),

instruments as (

    select * from {{ ref('survey_instruments') }}
    where rule_id is not null

),

rules as (

    select
        rule_id,
        silo,
        kind,
        cast(threshold as {{ dbt.type_numeric() }}) as threshold
    from {{ ref('poor_experience_rules') }}

),

-- Out-of-range scores are data errors, not opinions, and unmatched responses belong to nobody we know.
usable_responses as (

    select *
    from responses
    where match_status = 'matched'
        and is_score_in_range

),

final as (

    select
        usable_responses.customer_id,
        rules.rule_id,
        rules.silo,
        rules.kind,
        usable_responses.responded_at as occurred_at,
        'stg_survey__responses' as evidence_table,
        usable_responses.response_id as evidence_id,
        replace(
            instruments.evidence_label, '{score}', cast(usable_responses.score as {{ dbt.type_string() }})
        ) as evidence
    from usable_responses
    inner join instruments
        on usable_responses.survey_type = instruments.survey_type
    inner join rules
        on instruments.rule_id = rules.rule_id
    where usable_responses.score <= rules.threshold

)

select * from final
