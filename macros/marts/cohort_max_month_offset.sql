{#
  The last month offset (months since sign-up) cohort retention follows: int_customer_active_month_intervals
  ends a still-active customer's interval past it, and rpt_cohort_retention reports offsets up to it.
#}
{% macro cohort_max_month_offset() -%}
    120
{%- endmacro %}
