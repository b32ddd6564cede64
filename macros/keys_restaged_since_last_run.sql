{#
  Keys an incremental model keyed like its staging inputs must recompute: those of the staged rows written
  since the model's own last run, found from watermarks alone (no fingerprint of the inputs to compute).
  Used by int_invoices_reconciled_to_lines (by invoice) and int_subscription_versions (by subscription).

  The model's rows carry the watermark of the run that built them (_loaded_through_at, int_warehouse_as_of);
  W is their maximum. A staging model rewrites a key only in a run after a load, and every load after the
  model's last run has a later load time, so every staged row written since carries _loaded_through_at > W.
  That misses one change: a replaced file can delete staged keys that have no delivery left
  (staging_delete_rows_of_replaced_files), which leaves no row behind to carry a watermark. So when a file of
  any of `raw_tables` was replaced since W, every key of `driving` is returned: replacements are
  corrections, rare, and that day costs the model a full recompute.

  driving      the staged relation holding one row per key the model has (ref), also read for the full case;
  restaged     staged relations whose rows name `key` (refs, `driving` included where it counts);
  raw_tables   the raw tables (load_audit table_name) whose replaced files force the full recompute.
  The model must also delete the keys `driving` no longer has: delete_rows_of_vanished_keys with
  raw_tables.
#}
{% macro keys_restaged_since_last_run(key, driving, restaged, raw_tables) -%}
    {%- set watermark = last_run_watermark() -%}
    {%- for relation in restaged %}
    select {{ key }} from {{ relation }} where _loaded_through_at > {{ watermark }}
    union
    {%- endfor %}
    select {{ key }} from {{ driving }}
    where exists (
        select 1
        from {{ ref('stg_loader__load_audit') }}
        where status = 'replaced'
            and table_name in ('{{ raw_tables | join("', '") }}')
            and loaded_at > {{ watermark }}
    )
{%- endmacro %}


{#
  Post-hook of an incremental model keyed by `key` whose rows carry _loaded_through_at: remove the rows of
  the keys that vanish. delete+insert replaces the rows of the keys the run wrote; a key the run recomputed
  that gave no row (its inputs withdrawn, or no longer qualifying) keeps its old rows. Those are the rows
  older than this run of
  - the keys `changed` names in its rows stamped after the previous run (the latest watermark of this
    model's rows older than this run's), read from its column `changed_key` (default `key`);
  - any key, when a file of `raw_tables` (load_audit table_name) was replaced since the previous run: that
    run recomputed every key (keys_restaged_since_last_run), so the rows it did not write are of keys gone
    from staging, found without comparing the model with its inputs on every other run.
  Rows this run wrote carry its watermark and stay. No-op on full builds.
#}
{% macro delete_rows_of_vanished_keys(key, changed=none, changed_key=none, raw_tables=[]) -%}
    {% if is_incremental() %}
        {%- set this_run -%}
            (select loaded_through_at from {{ ref('int_warehouse_as_of') }})
        {%- endset -%}
        {%- set previous_run -%}
            (
                select coalesce(max(_loaded_through_at), cast('1900-01-01' as {{ dbt.type_timestamp() }}))
                from {{ this }}
                where _loaded_through_at < {{ this_run }}
            )
        {%- endset -%}
        {%- set vanished = [] -%}
        {%- if changed is not none -%}
            {%- do vanished.append(key ~ ' in (select ' ~ (changed_key or key) ~ ' from ' ~ changed
                ~ ' where _loaded_through_at > ' ~ previous_run ~ ')') -%}
        {%- endif -%}
        {%- if raw_tables -%}
            {%- do vanished.append('exists (select 1 from ' ~ ref('stg_loader__load_audit')
                ~ " where status = 'replaced' and table_name in ('" ~ raw_tables | join("', '")
                ~ "') and loaded_at > " ~ previous_run ~ ')') -%}
        {%- endif -%}
        {%- if not vanished -%}
            {{ exceptions.raise_compiler_error('delete_rows_of_vanished_keys: name `changed` or `raw_tables`') }}
        {%- endif %}
        delete from {{ this }}
        where _loaded_through_at < {{ this_run }}
            and ({{ vanished | join(' or ') }})
    {% endif %}
{%- endmacro %}
