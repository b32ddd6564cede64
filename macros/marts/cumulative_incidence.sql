{#
  Censoring-aware defection rate within a horizon: the Aalen-Johansen cumulative incidence of defection, with
  a competing event that ends the follow-up without a defection (for the poor-experience levels: reaching the
  next level), and customers whose data ends before the horizon counted as censored, never by their outcome.
  With no competing event it is 1 - Kaplan-Meier. docs/definitions.md has the formulas and a worked example.

  `follow_ups` names a CTE with one row per customer and group: the columns in `group_columns`,
  `follow_up_seconds` (from the start of the follow-up to its end, at most the horizon) and `follow_up_exit`
  ('defected', 'competing', 'horizon' = followed the whole horizon without either, 'censored') and
  `has_full_follow_up` (the whole horizon lies within the data, whatever happened: what a status reads).
  The macro writes CTEs (the caller's `with` continues after it); the last, `<prefix>_estimates`, has one row
  per group present in `follow_ups` with the counts, the estimate and its 95% interval (log-log transform
  of the delta-method variance), all before the caller decides whether there is enough follow-up to show it.
  Floating results are rounded to 6 decimals so a rebuild gives the same digits.
#}
{% macro cumulative_incidence_ctes(follow_ups, group_columns, prefix='cif', z=1.96) -%}
{%- set groups = group_columns | join(', ') -%}
{%- set partition = 'partition by ' ~ groups -%}
{{ prefix }}_exits as (
    select
        {{ groups }},
        follow_up_seconds,
        count(*) as n_exits,
        sum(case when follow_up_exit = 'defected' then 1 else 0 end) as n_defected,
        sum(case when follow_up_exit = 'competing' then 1 else 0 end) as n_competing
    from {{ follow_ups }}
    group by {{ groups }}, follow_up_seconds
),

-- at risk at t: everyone whose follow-up lasts at least t (an exit at t is still at risk at t)
{{ prefix }}_risk_sets as (
    select
        *,
        sum(n_exits) over (
            {{ partition }} order by follow_up_seconds desc rows between unbounded preceding and current row
        ) as n_at_risk
    from {{ prefix }}_exits
),

{{ prefix }}_survival as (
    select
        *,
        -- all-cause Kaplan-Meier survival just after t; a factor of 0 (everyone left at once) makes it 0
        case
            when sum(case when n_defected + n_competing = n_at_risk then 1 else 0 end) over (
                {{ partition }} order by follow_up_seconds rows between unbounded preceding and current row
            ) > 0 then 0.0
            else exp(sum(
                case when n_defected + n_competing < n_at_risk
                    then ln(1 - cast(n_defected + n_competing as {{ type_double() }}) / n_at_risk) else 0.0 end
            ) over ({{ partition }} order by follow_up_seconds rows between unbounded preceding and current row))
        end as survival_after
    from {{ prefix }}_risk_sets
    where n_defected + n_competing > 0
),

{{ prefix }}_event_times as (
    select
        *,
        coalesce(
            lag(survival_after) over ({{ partition }} order by follow_up_seconds), 1.0
        ) as survival_before
    from {{ prefix }}_survival
),

{{ prefix }}_increments as (
    select
        *,
        survival_before * n_defected / n_at_risk as incidence_increment,
        sum(survival_before * n_defected / n_at_risk) over (
            {{ partition }} order by follow_up_seconds rows between unbounded preceding and current row
        ) as incidence_through
    from {{ prefix }}_event_times
),

-- the running total at the last event time (not a fresh sum: the same digits whatever order rows come in)
{{ prefix }}_at_horizon as (
    select {{ groups }}, max(incidence_through) as incidence
    from {{ prefix }}_increments
    group by {{ groups }}
),

-- delta-method variance of the cumulative incidence at the horizon F (Marubini and Valsecchi):
-- sum over event times t_j of (F - F_j)^2 d_j / (n_j (n_j - d_j)) + S_{j-1}^2 d1_j (n_j - d1_j) / n_j^3
-- - 2 (F - F_j) S_{j-1} d1_j / n_j^2, with d_j all events and d1_j defections at t_j
{{ prefix }}_variances as (
    select
        {% for column in group_columns %}i.{{ column }},
        {% endfor -%}
        sum(
            case when i.n_at_risk > i.n_defected + i.n_competing
                then power(h.incidence - i.incidence_through, 2) * (i.n_defected + i.n_competing)
                    / (i.n_at_risk * cast(i.n_at_risk - i.n_defected - i.n_competing as {{ type_double() }}))
                else 0.0 end
            + power(i.survival_before, 2) * i.n_defected * (i.n_at_risk - i.n_defected)
                / power(cast(i.n_at_risk as {{ type_double() }}), 3)
            - 2 * (h.incidence - i.incidence_through) * i.survival_before * i.n_defected
                / power(cast(i.n_at_risk as {{ type_double() }}), 2)
        ) as incidence_variance
    from {{ prefix }}_increments as i
    inner join {{ prefix }}_at_horizon as h
        on {% for column in group_columns %}{% if not loop.first %} and {% endif %}i.{{ column }} = h.{{ column }}{% endfor %}
    group by {% for column in group_columns %}i.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
),

{{ prefix }}_counts as (
    select
        {{ groups }},
        count(*) as customers,
        sum(case when follow_up_exit = 'defected' then 1 else 0 end) as customers_defected,
        sum(case when follow_up_exit = 'competing' then 1 else 0 end) as customers_competing,
        sum(case when follow_up_exit = 'censored' then 1 else 0 end) as customers_censored,
        sum(case when follow_up_exit = 'horizon' then 1 else 0 end) as customers_at_risk_at_horizon,
        sum(case when has_full_follow_up then 1 else 0 end) as customers_with_full_follow_up
    from {{ follow_ups }}
    group by {{ groups }}
),

{{ prefix }}_estimates as (
    select
        {% for column in group_columns %}{{ prefix }}_counts.{{ column }},
        {% endfor -%}
        {{ prefix }}_counts.customers,
        {{ prefix }}_counts.customers_defected,
        {{ prefix }}_counts.customers_competing,
        {{ prefix }}_counts.customers_censored,
        {{ prefix }}_counts.customers_at_risk_at_horizon,
        {{ prefix }}_counts.customers_with_full_follow_up,
        {{ round_double('coalesce(' ~ prefix ~ '_at_horizon.incidence, 0.0)', 6) }} as incidence,
        {{ round_double('greatest(coalesce(' ~ prefix ~ '_variances.incidence_variance, 0.0), 0.0)', 9) }}
            as incidence_variance
    from {{ prefix }}_counts
    left join {{ prefix }}_at_horizon
        on {% for column in group_columns %}{% if not loop.first %} and {% endif %}{{ prefix }}_counts.{{ column }} = {{ prefix }}_at_horizon.{{ column }}{% endfor %}
    left join {{ prefix }}_variances
        on {% for column in group_columns %}{% if not loop.first %} and {% endif %}{{ prefix }}_counts.{{ column }} = {{ prefix }}_variances.{{ column }}{% endfor %}
)
{%- endmacro %}

{#
  The 95% interval of a cumulative incidence F with variance V on the log(-log) scale, which keeps it inside
  (0, 1): F^exp(+-z sqrt(V) / |F ln F|). At F = 0 (no defection seen) the upper bound is the Wilson bound for
  0 of `customers_at_horizon`, z^2 / (n + z^2); at F = 1 the lower bound is its mirror.
#}
{% macro cumulative_incidence_interval_lower(incidence, variance, customers_at_horizon, z=1.96) -%}
    case
        when {{ incidence }} <= 0 then 0.0
        when {{ incidence }} >= 1 then {{ customers_at_horizon }} / ({{ customers_at_horizon }} + {{ z }} * {{ z }})
        else power({{ incidence }}, exp({{ z }} * sqrt({{ variance }}) / abs({{ incidence }} * ln({{ incidence }}))))
    end
{%- endmacro %}

{% macro cumulative_incidence_interval_upper(incidence, variance, customers_at_horizon, z=1.96) -%}
    case
        when {{ incidence }} <= 0 then {{ z }} * {{ z }} / ({{ customers_at_horizon }} + {{ z }} * {{ z }})
        when {{ incidence }} >= 1 then 1.0
        else power({{ incidence }}, exp(-{{ z }} * sqrt({{ variance }}) / abs({{ incidence }} * ln({{ incidence }}))))
    end
{%- endmacro %}

{#
  The four columns a report states a censoring-aware rate with, from `estimates` (a <prefix>_estimates CTE of
  cumulative_incidence_ctes): estimate_status ('no_customers', 'insufficient_follow_up' below the var
  min_customers_with_full_follow_up, else 'estimated'), and the rate with its 95% interval, null unless
  estimated: a rate over too few fully followed customers is not shown at all.
#}
{% macro cumulative_incidence_rate_columns(estimates) -%}
    {%- set minimum = var('min_customers_with_full_follow_up') -%}
    {%- set enough = estimates ~ '.customers_with_full_follow_up >= ' ~ minimum -%}
    case
        when coalesce({{ estimates }}.customers, 0) = 0 then 'no_customers'
        when {{ estimates }}.customers_with_full_follow_up < {{ minimum }} then 'insufficient_follow_up'
        else 'estimated'
    end as estimate_status,
    case when {{ enough }}
        then cast({{ estimates }}.incidence as {{ type_double() }})
    end as defection_rate,
    case when {{ enough }}
        then {{ round_double(cumulative_incidence_interval_lower(estimates ~ '.incidence',
            estimates ~ '.incidence_variance', estimates ~ '.customers_at_risk_at_horizon'), 6) }}
    end as defection_rate_ci_lower,
    case when {{ enough }}
        then {{ round_double(cumulative_incidence_interval_upper(estimates ~ '.incidence',
            estimates ~ '.incidence_variance', estimates ~ '.customers_at_risk_at_horizon'), 6) }}
    end as defection_rate_ci_upper
{%- endmacro %}
