{#
  The CTEs the invoice-line billing rules start from (int_poor_experiences__billing_invoice_lines): invoices
  and their lines joined to the customer of the matched billing account, restricted on an incremental run to
  the invoices that can give a hit to a customer the rules rebuild (customers_to_rebuild_for_rules).
  On an incremental run the invoices and lines are narrowed to those invoices before any join: the day's
  few customers pick their accounts and subscriptions, and only their invoices meet the accounts and lines.
  Emits `customers_in_scope`, `accounts_in_scope` and `invoices_in_scope` (incremental runs), `invoices`,
  `invoice_lines`, `accounts`, `subscription_versions`, `warehouse_as_of`, `invoices_joined_to_customers`
  and `lines_joined_to_invoices`, each followed by a comma.
#}
{% macro billing_invoice_lines_in_scope(rule_ids) %}
{% if is_incremental() %}
customers_in_scope as (

    {{ customers_to_rebuild_for_rules(rule_ids) }}

),

accounts_in_scope as (

    select account_number
    from {{ ref('int_billing_accounts_matched_to_customers') }}
    where customer_id in (select customer_id from customers_in_scope)

),

-- The invoices whose lines can give a hit to a customer in scope: theirs, and those billing a line of one
-- of their subscriptions (its first invoice, or an invoice of an account matched to nobody).
invoices_in_scope as (

    select invoice_id
    from {{ ref('stg_billing__invoices') }}
    where account_number in (select account_number from accounts_in_scope)

    union

    select invoice_id
    from {{ ref('stg_billing__invoice_lines') }}
    where subscription_id in (
        select subscription_id from {{ ref('int_subscription_versions') }}
        where customer_id in (select customer_id from customers_in_scope)
    )

),
{% endif %}

invoices as (

    select * from {{ ref('stg_billing__invoices') }}
    {% if is_incremental() %}
    where invoice_id in (select invoice_id from invoices_in_scope)
    {% endif %}

),

-- Invoice lines are the biggest input: only the columns the rules use. On a full build they are inlined
-- rather than materialised (cte_not_materialized: no copy of every line to scan); on an incremental run the
-- lines in scope are few, and the engine may keep them once for the three rules instead of scanning every
-- line per rule.
invoice_lines as {% if not is_incremental() %}{{ cte_not_materialized() }}{% endif %} (

    select
        invoice_line_id,
        invoice_id,
        subscription_id,
        line_type,
        fee_code,
        promo_code,
        amount_minor
    from {{ ref('stg_billing__invoice_lines') }}
    {% if is_incremental() %}
    where invoice_id in (select invoice_id from invoices_in_scope)
    {% endif %}

),

accounts as (

    select * from {{ ref('int_billing_accounts_matched_to_customers') }}

),

subscription_versions as (

    select * from {{ ref('int_subscription_versions') }}

),

warehouse_as_of as (

    select * from {{ ref('int_warehouse_as_of') }}

),

-- The invoice date is a date; poor experiences on it happen at 00:00 UTC of that day. The joined lines are
-- inlined on a full build like the lines (only the columns the rules use).
invoices_joined_to_customers as (

    select
        invoices.invoice_id,
        invoices.invoice_date,
        invoices.period_start_date,
        cast(invoices.invoice_date as {{ dbt.type_timestamp() }}) as invoiced_at,
        cast(invoices.period_start_date as {{ dbt.type_timestamp() }}) as period_start_at,
        invoices.currency,
        accounts.customer_id
    from invoices
    left join accounts
        on invoices.account_number = accounts.account_number

),

lines_joined_to_invoices as {% if not is_incremental() %}{{ cte_not_materialized() }}{% endif %} (

    select
        invoice_lines.invoice_line_id,
        invoice_lines.invoice_id,
        invoice_lines.subscription_id,
        invoice_lines.line_type,
        invoice_lines.fee_code,
        invoice_lines.amount_minor,
        invoices_joined_to_customers.customer_id,
        invoices_joined_to_customers.invoice_date,
        invoices_joined_to_customers.invoiced_at,
        invoices_joined_to_customers.period_start_date,
        invoices_joined_to_customers.period_start_at,
        invoices_joined_to_customers.currency
    from invoice_lines
    inner join invoices_joined_to_customers
        on invoice_lines.invoice_id = invoices_joined_to_customers.invoice_id

),
{% endmacro %}
