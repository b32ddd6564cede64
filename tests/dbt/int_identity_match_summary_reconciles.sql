-- Identity matching never loses a row: per source, the summary counts exactly the rows the staged source has.
-- A company without the feed (an absent billing or survey feed lands as an empty raw table) has no summary
-- rows for it, which is exactly its 0 staged rows.
-- Reads several models: Dagster attaches it as an asset check of the model it guards (dagster-dbt reads
-- meta.dagster.ref; without it a test with several parents is no check of any asset).
{{ config(meta={'dagster': {'ref': {'name': 'int_identity_match_summary'}}}) }}
with

summary as (

    select * from {{ ref('int_identity_match_summary') }}

),

accounts as (

    select * from {{ ref('stg_billing__accounts') }}

),

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

staged_counts as (

    select 'billing_accounts' as source, count(*) as staged_rows from accounts
    union all
    select 'survey_responses' as source, count(*) as staged_rows from responses

),

summary_counts as (

    select source, sum({{ adapter.quote('rows') }}) as summarised_rows
    from summary
    group by source

),

final as (

    select
        staged_counts.source,
        staged_counts.staged_rows,
        coalesce(summary_counts.summarised_rows, 0) as summarised_rows
    from staged_counts
    left join summary_counts
        on staged_counts.source = summary_counts.source
    where coalesce(summary_counts.summarised_rows, 0) != staged_counts.staged_rows

)

select * from final
