{#
  The three columns every report states a defection rate with: the rate and its 95% Wilson interval.
  Bounds are rounded to 6 decimals because DuckDB may sum the same doubles in a different order from run to
  run, and an incremental run must equal a full refresh to the last digit. Null when there are no customers.
#}
{% macro defection_rate_columns(defected, customers) -%}
    case when {{ customers }} > 0
        then cast({{ defected }} as {{ type_double() }}) / {{ customers }}
    end as defection_rate,
    {{ round_double(wilson_interval_lower(defected, customers), 6) }} as defection_rate_ci_lower,
    {{ round_double(wilson_interval_upper(defected, customers), 6) }} as defection_rate_ci_upper
{%- endmacro %}
