{#
  Incremental staging: each staging model that de-duplicates deliveries re-stages, on a daily run, only the
  keys whose deliveries changed since its last run, and gives the rows a full refresh would.

  A staged row is a function of ALL the deliveries of its key (the winner of delivery_rank or of a version
  rank), so a key is rebuilt from every raw row it has, never from the new rows alone: a late re-delivery of
  an older export day loaded today is ranked against the newer delivery already there and loses to it.

  Which keys are rebuilt on an incremental run:
  - every key of a source row loaded after the model's watermark (`_loaded_at` > max(_loaded_through_at));
  - every key whose staged row came from a file the loader has since replaced: a re-delivered file replaces
    that day's rows of its table, deleting the old file's rows and its audit row, so such a row's _load_id
    no longer joins to raw.load_audit (staging_rows_of_replaced_files). Its key is rebuilt from the
    deliveries it still has; a key that has none left is deleted by the post-hook.

  Bookkeeping columns (underscore-prefixed, left out of comparisons; no consumer selects them):
    _export_date, _load_id, _loaded_at   the delivery the staged row was built from (the rank winner)
    _loaded_through_at                   the watermark: the source's latest _loaded_at when the row was built

  Why a post-hook and not a pre-hook: the batch is built after the pre-hooks run, and it must still read the
  staged rows of replaced files to learn which keys to rebuild. dbt's delete+insert then replaces the keys
  of the batch, and the post-hook deletes the rows of replaced files that are left: the keys that have no
  delivery at all any more.

  Assumes, as raw/load.py guarantees: _loaded_at only grows from one load to the next, a raw row's _load_id
  is in raw.load_audit as long as the row exists, and rows disappear from raw only when their file is
  replaced (audit status 'replaced' for the table and day). Seeds joined in staging (plans, cancel_reasons,
  channel_codes, payment_failure_codes) are not watched: after changing one, run with --full-refresh.

  Usage, in a model:
    {{ config(**staging_incremental_config('contact_id')) }}
    source as ( {{ staging_source(source('crm', 'contacts'), 'contact_id') }} ),
    ... final select: ..., {{ staging_bookkeeping_columns(source('crm', 'contacts'), 'ranked_deliveries') }}
  A key of several columns is a list; when the source spells a key column differently (to_utc(updated_at)
  in raw for the staged updated_at), `source_key` gives the source expressions in the same order.
  A model staged from another staging model (stg_crm__customers from base_crm__customer_versions) passes
  from_raw=false: that model's _loaded_at is already naive UTC.
#}

{% macro staging_incremental_config(unique_key) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'fail',
        'post_hook': "{% if is_incremental() %}{{ staging_delete_rows_of_replaced_files(this) }}{% endif %}",
    }) }}
{%- endmacro %}


{# The source rows to stage: all of them on a full build; on an incremental run every row of a key to rebuild. #}
{% macro staging_source(relation, unique_key, source_key=none, from_raw=true) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set source_keys = keys if source_key is none else ([source_key] if source_key is string else source_key) -%}
    {%- if source_keys | length != keys | length -%}
        {{ exceptions.raise_compiler_error('staging_source: source_key needs one expression per unique_key column') }}
    {%- endif -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    {#- An IN over the (few) keys, not a correlated EXISTS: DuckDB decorrelates the EXISTS into a join that
        groups every key of the raw table; the IN is a hash semi-join probing only the keys to rebuild
        (the same rows either way). #}
    where ({{ source_keys | join(', ') }}) in (
        select
            {%- for expression in source_keys %}
            _rebuild_key_{{ loop.index }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        from ({{ staging_keys_to_rebuild(relation, keys, source_keys, from_raw) }}) as keys_to_rebuild
    )
    {%- endif %}
{%- endmacro %}


{# Keys to rebuild, as columns _rebuild_key_1.. (names no source column has). #}
{% macro staging_keys_to_rebuild(relation, keys, source_keys, from_raw=true) -%}
    select
        {%- for expression in source_keys %}
        {{ expression }} as _rebuild_key_{{ loop.index }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    where {{ staging_loaded_at('_loaded_at', from_raw) }} > {{ last_run_watermark() }}
    union
    select
        {%- for key in keys %}
        {{ key }} as _rebuild_key_{{ loop.index }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ this }}
    where {{ staging_rows_of_replaced_files() }}
{%- endmacro %}


{# A source's _loaded_at as naive UTC: raw tables carry a timestamptz, staging models already naive UTC. #}
{% macro staging_loaded_at(column, from_raw=true) -%}
    {%- if from_raw -%}{{ to_utc(column) }}{%- else -%}{{ column }}{%- endif -%}
{%- endmacro %}


{# The bookkeeping columns, from the rank winner `row_alias` (a CTE holding the source's columns). #}
{% macro staging_bookkeeping_columns(relation, row_alias, from_raw=true) -%}
        {{ row_alias }}._export_date as _export_date,
        {{ row_alias }}._load_id as _load_id,
        {{ staging_loaded_at(row_alias ~ '._loaded_at', from_raw) }} as _loaded_at,
        (select {{ staging_loaded_at('max(_loaded_at)', from_raw) }} from {{ relation }}) as _loaded_through_at
{%- endmacro %}


{#
  Staged rows built from a delivery that is gone: its file was replaced (the loader deleted the old file's
  rows and audit row). The day filter only narrows the scan to days that saw a replacement.
#}
{% macro staging_rows_of_replaced_files() -%}
    _export_date in (select export_date from {{ source('loader', 'load_audit') }} where status = 'replaced')
    and _load_id not in (select load_id from {{ source('loader', 'load_audit') }})
{%- endmacro %}


{# Post-hook: after delete+insert, rows still built from a replaced file belong to keys with no delivery left. #}
{% macro staging_delete_rows_of_replaced_files(relation) -%}
    delete from {{ relation }} where {{ staging_rows_of_replaced_files() }}
{%- endmacro %}
