{#
  The rows of a customer-keyed incremental upstream that it rebuilt after this model's last run, for a
  customer-keyed incremental model that rebuilds the same customers (those of the change set).

  Every model incremental on the change set (changed_customers_since_last_run, macros/changed_customers.sql)
  rewrites all rows of each customer it rebuilds with its run's watermark (_loaded_through_at). So the rows
  of `relation` with a watermark above this model's (W, last_run_watermark) are all the rows of the customers
  that changed since this model's last run, and no others: a filter on the upstream's own column, which the
  engine answers from the newest part of the table, instead of a join of the whole upstream with the change
  set. Customers left with no row upstream are not among them: the model's post-hook
  delete_rows_of_vanished_customers() removes theirs from the change set.

  Usage, in a model built after `relation` in every run (on full builds: every row):
    {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='customer_id',
              post_hook="{{ delete_rows_of_vanished_customers() }}") }}
    upstream as ({{ rows_rebuilt_since_last_run(ref('int_touchpoints')) }}),
#}
{% macro rows_rebuilt_since_last_run(relation) -%}
    select * from {{ relation }}
    {% if is_incremental() %}
    where _loaded_through_at > {{ last_run_watermark() }}
    {% endif %}
{%- endmacro %}
