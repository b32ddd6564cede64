{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='customer_id',
        on_schema_change='fail',
        post_hook="{{ delete_rows_of_vanished_customers() }}"
    )
}}
-- depends_on: {{ ref('int_changed_customers') }}
-- Evenly weighted attribution: each poor experience in the lookback window gives 1/n of the defection to its
-- silo; a defection with none goes wholly to 'none'. Last and first touch are flagged on the same rows.
-- Incremental by customer, as int_defections: a run rebuilds the attributions of the customers of the change
-- set that changed since this model's last run.
with

warehouse_as_of as (
    select * from {{ ref('int_warehouse_as_of') }}
),

defections as (
    select * from {{ ref('int_defections') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

defection_poor_experiences as (
    select * from {{ ref('int_defection_poor_experiences') }}
    {% if is_incremental() %}
    where customer_id in ({{ changed_customers_since_last_run() }})
    {% endif %}
),

by_silo as (
    select
        defection_id,
        silo,
        count(*) as n_poor_experiences,
        max(n_in_window) as n_in_window,
        max(case when rank_from_last = 1 then 1 else 0 end) = 1 as is_last_touch,
        max(case when rank_from_first = 1 then 1 else 0 end) = 1 as is_first_touch
    from defection_poor_experiences
    group by defection_id, silo
),

unattributed as (
    select
        defections.defection_id,
        'none' as silo,
        0 as n_poor_experiences,
        1 as n_in_window,
        true as is_last_touch,
        true as is_first_touch
    from defections
    left join by_silo
        on defections.defection_id = by_silo.defection_id
    where by_silo.defection_id is null
),

unioned as (
    select * from by_silo
    union all
    select * from unattributed
),

final as (
    select
        {{ dbt.hash(dbt.concat(['unioned.defection_id', "'|'", 'unioned.silo'])) }}
            as defection_attribution_id,
        unioned.defection_id,
        defections.customer_id,
        defections.defected_at,
        defections.defection_type,
        unioned.silo,
        cast(unioned.n_poor_experiences as integer) as n_poor_experiences,
        case
            when unioned.n_poor_experiences = 0 then 1.0
            else cast(unioned.n_poor_experiences as {{ type_double() }}) / unioned.n_in_window
        end as even_weight,
        unioned.is_last_touch,
        unioned.is_first_touch,
        warehouse_as_of.loaded_through_at as _loaded_through_at
    from unioned
    inner join defections
        on unioned.defection_id = defections.defection_id
    cross join warehouse_as_of
)

select * from final
