{#
  Customers an incremental model must rebuild: those whose input fingerprint (column `fingerprint_column`
  of the `fingerprints` relation, one row per customer) differs from the _input_fingerprint their rows in
  `relation` carry. That is every customer with new or changed inputs, and every customer whose inputs are
  gone (fingerprint now null or absent, rows still stored). Customers are rebuilt whole, because a later
  fact (a defection, a late contact) changes their older rows too.
  Used by int_touchpoints (fingerprints: int_touchpoint_source_fingerprints) and by the incremental facts
  (fingerprints: int_customer_fingerprints).
#}
{% macro customers_to_reprocess(relation, fingerprints, fingerprint_column) -%}
    select coalesce(current_inputs.customer_id, built.customer_id) as customer_id
    from (
        select customer_id, {{ fingerprint_column }} as fingerprint
        from {{ fingerprints }}
        where {{ fingerprint_column }} is not null
    ) as current_inputs
    full outer join (
        select distinct customer_id, _input_fingerprint as fingerprint from {{ relation }}
    ) as built
        on current_inputs.customer_id = built.customer_id
    where current_inputs.fingerprint is distinct from built.fingerprint
{%- endmacro %}


{#
  Pre-hook of those incremental models: removes every row of the customers about to be rebuilt, so rows
  that later facts undid (a broken promise kept after all) and customers with no inputs left disappear too.
  No-op on full builds.
#}
{% macro delete_customers_to_reprocess(relation, fingerprints, fingerprint_column) -%}
    {% if is_incremental() %}
        delete from {{ relation }}
        where customer_id in ({{ customers_to_reprocess(relation, fingerprints, fingerprint_column) }})
    {% endif %}
{%- endmacro %}
