{#
  dbt's cross-database macros where an engine's own version gives a different answer from DuckDB's, or does
  not compile with the arguments this project passes. dbt_project.yml's `dispatch` puts this project ahead of
  dbt for the `dbt` namespace, so `dbt.datediff(...)` in a model resolves to the version here for that engine
  and to dbt's own for the others. tests/engines builds every mart on DuckDB, PostgreSQL and Spark and
  requires equal rows.
#}

{#
  datediff counts the boundaries of `datepart` crossed from the first to the second instant, as DuckDB's
  date_diff and dbt-postgres's datediff do: 10:59:59 to 11:00:00 is 1 minute, 31 January to 1 February is
  1 month. dbt-spark's version rounds elapsed time (minutes, seconds) and counts months with months_between,
  which differs between month ends.
#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set part = datepart | lower -%}
    {%- if part == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif part == 'month' -%}
        ((year({{ second_date }}) * 12 + month({{ second_date }}))
            - (year({{ first_date }}) * 12 + month({{ first_date }})))
    {%- elif part == 'quarter' -%}
        ((year({{ second_date }}) * 4 + quarter({{ second_date }}))
            - (year({{ first_date }}) * 4 + quarter({{ first_date }})))
    {%- elif part == 'year' -%}
        (year({{ second_date }}) - year({{ first_date }}))
    {%- elif part in ('hour', 'minute', 'second') -%}
        {%- set seconds = {'hour': 3600, 'minute': 60, 'second': 1}[part] -%}
        (floor(unix_seconds(cast({{ second_date }} as timestamp)) / {{ seconds }})
            - floor(unix_seconds(cast({{ first_date }} as timestamp)) / {{ seconds }}))
    {%- else -%}
        {{ exceptions.raise_compiler_error("datediff on Spark: datepart '" ~ datepart ~ "' is not implemented") }}
    {%- endif -%}
{%- endmacro %}


{#
  listagg in the order asked for: dbt-spark's version ignores order_by_clause (collect_list keeps no order).
  The values are collected with their sort key and sorted before joining; `distinct <expr>` ordered by the
  same expression collects the set and sorts it. One ascending sort key, as this project uses.
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error('listagg on Spark: limit_num is not implemented') }}
    {%- endif -%}
    {%- set measure_text = measure | trim -%}
    {%- set is_distinct = measure_text.lower().startswith('distinct ') -%}
    {%- set value = measure_text[9:] | trim if is_distinct else measure_text -%}
    {%- if not order_by_clause -%}
        array_join({{ 'collect_set' if is_distinct else 'collect_list' }}({{ value }}), {{ delimiter_text }})
    {%- else -%}
        {%- set order_text = order_by_clause | trim -%}
        {%- if not order_text.lower().startswith('order by ') -%}
            {{ exceptions.raise_compiler_error("listagg on Spark: order_by_clause must start with 'order by'") }}
        {%- endif -%}
        {%- set sort_key = order_text[9:] | trim -%}
        {%- if ',' in sort_key or sort_key.lower().endswith(' desc') or sort_key.lower().endswith(' asc') -%}
            {{ exceptions.raise_compiler_error('listagg on Spark: one ascending sort key only, not ' ~ sort_key) }}
        {%- endif -%}
        {%- if is_distinct -%}
            {%- if sort_key != value -%}
                {{ exceptions.raise_compiler_error('listagg on Spark: distinct values sort by themselves only') }}
            {%- endif -%}
            array_join(array_sort(collect_set({{ value }})), {{ delimiter_text }})
        {%- else -%}
            array_join(
                transform(
                    array_sort(collect_list(named_struct('sort_key', {{ sort_key }}, 'value', {{ value }}))),
                    entry -> entry.value
                ),
                {{ delimiter_text }}
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#
  split_part with a part number that is an expression (a column), not only a literal: dbt-postgres and
  dbt-spark compare the part number with 0 in Jinja, so a column fails to compile. Both engines have a
  split_part function that takes any positive part and returns '' past the last part, as DuckDB's does.
#}
{% macro postgres__split_part(string_text, delimiter_text, part_number) -%}
    split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro %}

{% macro spark__split_part(string_text, delimiter_text, part_number) -%}
    split_part({{ string_text }}, {{ delimiter_text }}, cast({{ part_number }} as int))
{%- endmacro %}
