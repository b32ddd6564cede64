{#
  Customers an incremental fact must rebuild: those whose input fingerprint (int_customer_fingerprints,
  column `fingerprint_column`) differs from the _input_fingerprint their rows in `relation` carry. That is
  every customer with new or changed inputs, and every customer whose inputs are gone (fingerprint now null,
  rows still stored). Customers are rebuilt whole, because a later fact (a defection, a late contact)
  changes their older rows too.
#}
{% macro customers_to_reprocess(relation, fingerprint_column) -%}
    select coalesce(current_inputs.customer_id, built.customer_id) as customer_id
    from (
        select customer_id, {{ fingerprint_column }} as fingerprint
        from {{ ref('int_customer_fingerprints') }}
        where {{ fingerprint_column }} is not null
    ) as current_inputs
    full outer join (
        select distinct customer_id, _input_fingerprint as fingerprint from {{ relation }}
    ) as built
        on current_inputs.customer_id = built.customer_id
    where current_inputs.fingerprint is distinct from built.fingerprint
{%- endmacro %}


{#
  Pre-hook of the incremental facts: removes every row of the customers about to be rebuilt, so rows that
  later facts undid (a broken promise kept after all) and customers with no inputs left disappear too.
  No-op on full builds.
#}
{% macro delete_customers_to_reprocess(relation, fingerprint_column) -%}
    {% if is_incremental() %}
        delete from {{ relation }}
        where customer_id in ({{ customers_to_reprocess(relation, fingerprint_column) }})
    {% endif %}
{%- endmacro %}
