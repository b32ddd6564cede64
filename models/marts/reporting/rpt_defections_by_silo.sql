-- Defections per silo under each attribution rule, with the customers' own stated silo beside them.
with

attribution as (
    select * from {{ ref('fct_defection_attribution') }}
),

defections as (
    select * from {{ ref('fct_defections') }}
),

by_rule as (
    select 'last_touch' as attribution_rule, silo, cast(count(*) as {{ type_double() }}) as defections
    from attribution
    where is_last_touch
    group by silo
    union all
    select 'first_touch' as attribution_rule, silo, cast(count(*) as {{ type_double() }}) as defections
    from attribution
    where is_first_touch
    group by silo
    union all
    select 'even' as attribution_rule, silo, sum(even_weight) as defections
    from attribution
    group by silo
    union all
    select 'stated' as attribution_rule, stated_silo as silo, cast(count(*) as {{ type_double() }}) as defections
    from defections
    group by stated_silo
),

-- Even weights are fractions; their sums are rounded so that the figure does not depend on the order in
-- which the database happens to add them up.
final as (
    select
        attribution_rule,
        silo,
        {{ round_double('defections', 6) }} as defections,
        {{ round_double('defections / sum(defections) over (partition by attribution_rule)', 6) }} as share_of_defections
    from by_rule
)

select * from final
