{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['match_source', 'match_key'],
        on_schema_change='fail'
    )
}}
{#
  The customer each billing account and survey response is matched to, and since when: the memory
  int_changed_customers needs to see a re-match. A match moves when the identity inputs change (a new
  customer takes over an e-mail address, an address becomes shared, a link starts to resolve), which
  touches rows of the account or response that were not restaged themselves.

  A run writes only the matches that are new or name another customer than the stored one, with the
  customer they named before (_previous_customer_id) and the run's watermark; int_changed_customers takes
  both customers of such a row. Both identity models are incremental and stamp the rows they rewrite
  (_loaded_through_at), and a match moves only when its row is rewritten, so an incremental run compares
  only the rows they rewrote after the latest run that recorded a match here (rows of that run were
  compared by it: this model runs after them).
#}
{%- set rewritten -%}
    {% if is_incremental() %}
    where _loaded_through_at > {{ last_run_watermark() }}
    {% endif %}
{%- endset %}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

current_matches as (

    select
        'billing_account' as match_source,
        account_number as match_key,
        customer_id
    from {{ ref('int_billing_accounts_matched_to_customers') }}
    {{ rewritten }}

    union all

    select
        'survey_response' as match_source,
        response_id as match_key,
        customer_id
    from {{ ref('int_survey_responses_matched_to_customers') }}
    {{ rewritten }}

),

final as (

    select
        current_matches.match_source,
        current_matches.match_key,
        current_matches.customer_id,
        {% if is_incremental() %}stored.customer_id{% else %}cast(null as {{ dbt.type_string() }}){% endif %}
            as _previous_customer_id,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from current_matches
    cross join warehouse_as_of
    {% if is_incremental() %}
    left join {{ this }} as stored
        on current_matches.match_source = stored.match_source
        and current_matches.match_key = stored.match_key
    where stored.match_key is null
        or stored.customer_id is distinct from current_matches.customer_id
    {% endif %}

)

select * from final
