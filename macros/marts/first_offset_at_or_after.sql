{#
  The smallest whole number of months m for which `origin` + m months is on or after `instant` (null when
  `instant` is null), without generating the months: adding months only moves forward, and `origin` + d
  months, d the months datediff counts from `origin` to `instant`, lies in `instant`'s month, so the answer is
  d when that instant is not before `instant`, else d + 1 (a later day or time of the month). Month ends
  clamp as dbt.dateadd clamps them (31 January + 1 month = end of February). rpt_cohort_retention.
#}
{% macro first_offset_at_or_after(origin, instant) -%}
    (
        {{ dbt.datediff(origin, instant, 'month') }}
        + case
            when {{ dbt.dateadd('month', dbt.datediff(origin, instant, 'month'), origin) }} >= {{ instant }}
                then 0
            else 1
        end
    )
{%- endmacro %}
