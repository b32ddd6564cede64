{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='subscription_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_keys(
            'subscription_id', ref('int_subscription_versions'), raw_tables=['crm__subscriptions']
        ) }}"
    )
}}
-- depends_on: {{ ref('stg_loader__load_audit') }}
-- Grain: one row per subscription version that is cancelled or carries a cancel reason. The reason it states:
-- the delivered code when seed cancel_reasons knows it (UNKNOWN when it does not), else the free text
-- classified against the company's vocabulary (seed cancel_reason_vocabulary), whole words only
-- (macros/word_match.sql). A text naming several phrases gets the one it mentions first, then the longer
-- (more specific) phrase, then the code. Text that matches no phrase is OTHER, reason_source unmatched_text:
-- rpt_cancel_reason_coverage reports its share so the vocabulary can be extended.
-- Incremental by subscription: a run classifies the versions of the subscriptions int_subscription_versions
-- rewrote since this model's last run (every subscription after a replaced subscriptions file); the
-- post-hook removes those left with no version to classify, and the subscriptions staging no longer has.
-- The seeds are not watched: after changing cancel_reasons or the vocabulary, run with --full-refresh.
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
    {% if is_incremental() %}
    where _loaded_through_at > {{ last_run_watermark() }}
    {% endif %}
),

cancel_reasons as (
    select * from {{ ref('cancel_reasons') }}
),

vocabulary as (
    select * from {{ ref('cancel_reason_vocabulary') }}
),

versions_with_reasons as (
    select
        subscription_version_id,
        subscription_id,
        updated_at,
        status,
        cancel_reason_code,
        cancel_reason_text
    from subscription_versions
    where cancelled_at is not null
        or status = 'CANCELLED'
        or cancel_reason_code is not null
        or cancel_reason_text is not null
),

texts_to_classify as (
    select
        subscription_version_id,
        {{ word_match_text('cancel_reason_text') }} as padded_text
    from versions_with_reasons
    where cancel_reason_code is null
        and cancel_reason_text is not null
),

phrases as (
    select
        cancel_reason_code,
        {{ word_match_text('phrase') }} as padded_phrase
    from vocabulary
    where trim(phrase) != ''
),

phrase_matches as (
    select
        texts_to_classify.subscription_version_id,
        phrases.cancel_reason_code,
        row_number() over (
            partition by texts_to_classify.subscription_version_id
            order by
                {{ word_match_position('texts_to_classify.padded_text', 'phrases.padded_phrase') }},
                {{ dbt.length('phrases.padded_phrase') }} desc,
                phrases.cancel_reason_code
        ) as match_rank
    from texts_to_classify
    inner join phrases
        on {{ word_match_position('texts_to_classify.padded_text', 'phrases.padded_phrase') }} > 0
),

mapped as (
    select
        versions_with_reasons.subscription_version_id,
        versions_with_reasons.subscription_id,
        versions_with_reasons.updated_at,
        versions_with_reasons.cancel_reason_code,
        versions_with_reasons.cancel_reason_text,
        case
            when versions_with_reasons.cancel_reason_code is not null and code_reasons.cancel_reason_code is not null
                then 'code'
            when versions_with_reasons.cancel_reason_code is not null then 'unknown_code'
            when phrase_matches.cancel_reason_code is not null then 'vocabulary'
            when versions_with_reasons.cancel_reason_text is not null then 'unmatched_text'
            else 'missing'
        end as reason_source,
        case
            when versions_with_reasons.cancel_reason_code is not null
                then coalesce(code_reasons.cancel_reason_code, 'UNKNOWN')
            when phrase_matches.cancel_reason_code is not null then phrase_matches.cancel_reason_code
            when versions_with_reasons.cancel_reason_text is not null then 'OTHER'
        end as mapped_cancel_reason_code
    from versions_with_reasons
    left join cancel_reasons as code_reasons
        on versions_with_reasons.cancel_reason_code = code_reasons.cancel_reason_code
    left join phrase_matches
        on versions_with_reasons.subscription_version_id = phrase_matches.subscription_version_id
        and phrase_matches.match_rank = 1
),

final as (
    select
        mapped.subscription_version_id,
        mapped.subscription_id,
        mapped.updated_at,
        mapped.cancel_reason_code,
        mapped.cancel_reason_text,
        mapped.mapped_cancel_reason_code,
        mapped.reason_source,
        case
            when mapped.mapped_cancel_reason_code = 'UNKNOWN' then 'unknown'
            else mapped_reasons.reason_category
        end as reason_category,
        case
            when mapped.mapped_cancel_reason_code = 'UNKNOWN' then 'unknown'
            else mapped_reasons.stated_silo
        end as stated_silo,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from mapped
    cross join warehouse_as_of
    left join cancel_reasons as mapped_reasons
        on mapped.mapped_cancel_reason_code = mapped_reasons.cancel_reason_code
)

select * from final
