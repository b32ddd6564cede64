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
  The model must also delete the keys `driving` no longer has (delete_keys_no_longer_staged).
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


{# Post-hook of those models: after delete+insert, remove the keys the driving staged relation no longer has
   (deleted with a replaced file). No-op on full builds. #}
{% macro delete_keys_no_longer_staged(key, driving) -%}
    {% if is_incremental() %}
        delete from {{ this }} where {{ key }} not in (select {{ key }} from {{ driving }})
    {% endif %}
{%- endmacro %}
