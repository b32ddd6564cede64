-- Rates and interval bounds are rounded to 6 decimals: enough for any report and stable to compare.
with

poor_experience_levels as (
    select * from {{ ref('int_poor_experience_levels') }}
),

level_labels as (
    select 0 as poor_experience_level, '0' as poor_experience_level_label
    union all select 1, '1'
    union all select 2, '2'
    union all select 3, '3+'
),

counts as (
    select
        poor_experience_level,
        count(*) as customers_reached,
        sum(case when is_defected_after_level then 1 else 0 end) as customers_defected
    from poor_experience_levels
    where is_counted
    group by poor_experience_level
),

final as (
    select
        level_labels.poor_experience_level,
        level_labels.poor_experience_level_label,
        cast(coalesce(counts.customers_reached, 0) as integer) as customers_reached,
        cast(coalesce(counts.customers_defected, 0) as integer) as customers_defected,
        {{ defection_rate_columns('counts.customers_defected', 'counts.customers_reached') }}
    from level_labels
    left join counts
        on level_labels.poor_experience_level = counts.poor_experience_level
)

select * from final
