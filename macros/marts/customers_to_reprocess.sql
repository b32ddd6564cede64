{#
  Customers an incremental mart must rebuild: everyone touched by raw rows loaded since the mart's last run,
  found through the events those rows produce. A row delivered on export day D describes an event at most
  late_arrival_days before D, so every event from (first newly loaded export day - late_arrival_days) on is
  reprocessed; that also covers "the last late_arrival_days of events" when nothing new was loaded.
  Whole customers are rebuilt because later facts (a defection, a late contact) change their older rows.
  `watermark_relation` is the incremental table carrying _loaded_through_at (the load watermark it saw).
#}
{% macro customers_to_reprocess(watermark_relation) -%}
    select customer_id from (
        with

        load_files as (
            select * from {{ ref('int_load_batches') }}
        ),

        watermark as (
            select max(_loaded_through_at) as loaded_through_at from {{ watermark_relation }}
        ),

        cutoff as (
            select
                {{ dbt.dateadd('day', -1 * var('late_arrival_days'),
                    'cast(coalesce(min(case when load_files.loaded_at > watermark.loaded_through_at
                        or watermark.loaded_through_at is null then load_files.export_date end),
                        max(load_files.export_date)) as ' ~ dbt.type_timestamp() ~ ')') }} as cutoff_at
            from load_files
            cross join watermark
        ),

        touched as (
            select customer_id from {{ ref('int_touchpoints') }}
            where occurred_at >= (select cutoff_at from cutoff)
            union all
            select customer_id from {{ ref('int_poor_experiences') }}
            where occurred_at >= (select cutoff_at from cutoff)
            union all
            select customer_id from {{ ref('int_subscription_versions') }}
            where valid_from >= (select cutoff_at from cutoff)
                or cancelled_at >= (select cutoff_at from cutoff)
            union all
            select customer_id from {{ ref('int_complaints') }}
            where coalesce(closed_at, complained_at) >= (select cutoff_at from cutoff)
            union all
            select customer_id from {{ ref('stg_crm__customers') }}
            where updated_at >= (select cutoff_at from cutoff)
        )

        select distinct customer_id from touched where customer_id is not null
    ) as customers_to_reprocess
{%- endmacro %}
