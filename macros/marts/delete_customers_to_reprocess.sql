{#
  Pre-hook of the incremental marts: removes the rows of every customer about to be rebuilt, so rows that
  later facts undid (a broken promise kept after all) disappear too. No-op on full builds.
#}
{% macro delete_customers_to_reprocess(relation) -%}
    {% if is_incremental() %}
        delete from {{ relation }} where customer_id in ({{ customers_to_reprocess(relation) }})
    {% endif %}
{%- endmacro %}
