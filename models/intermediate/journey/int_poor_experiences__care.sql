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
{#
  Poor-experience rule hits of the care silo: repeat_contact, long_wait, many_transfers, broken_promise.
  Grain: one row per contact (or promise) that broke a rule.
  Incremental by customer: a run recomputes the customers of the change set (int_changed_customers) that
  changed since this model's last run, or every customer when one of the rules' thresholds in seed
  poor_experience_rules is not the one its stored hits were found with (customers_to_rebuild_for_rules);
  delete+insert on customer_id replaces their rows and the post-hook deletes the rows of those left with no
  hit. A repeat contact is judged on its whole case: the contacts of every case one of those customers
  contacted about are read, and only those customers' hits are written.
#}
with

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

rules as (

    select rule_id, cast(threshold as {{ dbt.type_numeric() }}) as threshold
    from {{ ref('poor_experience_rules') }}

),

{% if is_incremental() %}
customers_in_scope as (

    {{ customers_to_rebuild_for_rules(['repeat_contact', 'long_wait', 'many_transfers', 'broken_promise']) }}

),

{% endif %}
contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    {% if is_incremental() %}
    where case_id in (
        select case_id from {{ ref('stg_crm__contacts') }}
        where customer_id in (select customer_id from customers_in_scope)
    )
        or customer_id in (select customer_id from customers_in_scope)
    {% endif %}

),

appointments as (

    select * from {{ ref('stg_crm__appointments') }}
    {% if is_incremental() %}
    where customer_id in (select customer_id from customers_in_scope)
    {% endif %}

),

repeat_contact_rule as ({{ poor_experience_rule('repeat_contact') }}),

long_wait_rule as ({{ poor_experience_rule('long_wait') }}),

many_transfers_rule as ({{ poor_experience_rule('many_transfers') }}),

broken_promise_rule as ({{ poor_experience_rule('broken_promise') }}),

contacts_with_previous as (

    select
        *,
        lag(contact_at) over (partition by case_id order by contact_at, contact_id) as previous_contact_at
    from contacts

),

repeat_contacts as (

    select
        contacts_with_previous.customer_id,
        repeat_contact_rule.rule_id,
        repeat_contact_rule.silo,
        repeat_contact_rule.kind,
        contacts_with_previous.contact_at as occurred_at,
        'stg_crm__contacts' as evidence_table,
        contacts_with_previous.contact_id as evidence_id,
        'contact again on case ' || contacts_with_previous.case_id as evidence
    from contacts_with_previous
    cross join repeat_contact_rule
    where contacts_with_previous.contact_at <= {{ dbt.dateadd(
        'day', 'cast(repeat_contact_rule.threshold as ' ~ dbt.type_int() ~ ')',
        'contacts_with_previous.previous_contact_at'
    ) }}

),

long_waits as (

    select
        contacts.customer_id,
        long_wait_rule.rule_id,
        long_wait_rule.silo,
        long_wait_rule.kind,
        contacts.contact_at as occurred_at,
        'stg_crm__contacts' as evidence_table,
        contacts.contact_id as evidence_id,
        'waited ' || cast(contacts.wait_seconds as {{ dbt.type_string() }}) || ' s for an agent' as evidence
    from contacts
    cross join long_wait_rule
    where contacts.wait_seconds > long_wait_rule.threshold

),

many_transfers as (

    select
        contacts.customer_id,
        many_transfers_rule.rule_id,
        many_transfers_rule.silo,
        many_transfers_rule.kind,
        contacts.contact_at as occurred_at,
        'stg_crm__contacts' as evidence_table,
        contacts.contact_id as evidence_id,
        'transferred ' || cast(contacts.transfer_count as {{ dbt.type_string() }}) || ' times' as evidence
    from contacts
    cross join many_transfers_rule
    where contacts.transfer_count >= many_transfers_rule.threshold

),

-- A promise is kept by any visit window of the customer that starts between the promise and its due time.
tech_promises as (

    select
        contacts.*,
        {{ dbt.dateadd(
            'hour', 'cast(broken_promise_rule.threshold as ' ~ dbt.type_int() ~ ')', 'contacts.promise_due_at'
        ) }} as promise_deadline_at
    from contacts
    cross join broken_promise_rule
    where contacts.promise_code = 'TECH_NEXT_DAY'
        and contacts.promise_due_at is not null

),

kept_promises as (

    select distinct tech_promises.contact_id
    from tech_promises
    inner join appointments
        on tech_promises.customer_id = appointments.customer_id
        and appointments.window_start_at >= tech_promises.contact_at
        and appointments.window_start_at <= tech_promises.promise_deadline_at

),

broken_promises as (

    select
        tech_promises.customer_id,
        broken_promise_rule.rule_id,
        broken_promise_rule.silo,
        broken_promise_rule.kind,
        tech_promises.promise_due_at as occurred_at,
        'stg_crm__contacts' as evidence_table,
        tech_promises.contact_id as evidence_id,
        'promised TECH_NEXT_DAY, no visit by due time' as evidence
    from tech_promises
    cross join broken_promise_rule
    left join kept_promises
        on tech_promises.contact_id = kept_promises.contact_id
    where kept_promises.contact_id is null

),

hits as (

    select * from repeat_contacts
    union all
    select * from long_waits
    union all
    select * from many_transfers
    union all
    select * from broken_promises

),

final as (

    select
        hits.*,
        warehouse_as_of.loaded_through_at as _loaded_through_at,
        rules.threshold as _rule_threshold
    from hits
    cross join warehouse_as_of
    inner join rules
        on hits.rule_id = rules.rule_id
    {% if is_incremental() %}
    where hits.customer_id in (select customer_id from customers_in_scope)
    {% endif %}

)

select * from final
