-- Defections per silo under each attribution rule, with the customers' own stated silo beside them. Every
-- silo the rules and the cancel reasons know appears under every rule, with 0 when nothing went to it.
with

attribution as (
    select * from {{ ref('fct_defection_attribution') }}
),

defections as (
    select * from {{ ref('fct_defections') }}
),

poor_experience_rules as (
    select * from {{ ref('poor_experience_rules') }}
),

cancel_reasons as (
    select * from {{ ref('cancel_reasons') }}
),

attribution_rules as (
    select 'last_touch' as attribution_rule
    union all select 'first_touch'
    union all select 'even'
    union all select 'stated'
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

silos as (
    select silo from poor_experience_rules
    union
    select stated_silo as silo from cancel_reasons
    union
    select 'none' as silo
    union
    select silo from by_rule
),

rows_expected as (
    select attribution_rules.attribution_rule, silos.silo
    from attribution_rules
    cross join silos
),

by_rule_complete as (
    select
        rows_expected.attribution_rule,
        rows_expected.silo,
        coalesce(by_rule.defections, 0) as defections
    from rows_expected
    left join by_rule
        on rows_expected.attribution_rule = by_rule.attribution_rule
        and rows_expected.silo is not distinct from by_rule.silo
),

-- Even weights are fractions; their sums are rounded so that the figure does not depend on the order in
-- which the database happens to add them up.
final as (
    select
        attribution_rule,
        silo,
        {{ round_double('defections', 6) }} as defections,
        {{ round_double('defections / nullif(sum(defections) over (partition by attribution_rule), 0)', 6) }}
            as share_of_defections
    from by_rule_complete
)

select * from final
