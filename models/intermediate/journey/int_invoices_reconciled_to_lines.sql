with

invoices as (

    select * from {{ ref('stg_billing__invoices') }}

),

invoice_lines as (

    select * from {{ ref('stg_billing__invoice_lines') }}

),

accounts as (

    select * from {{ ref('int_billing_accounts_matched_to_customers') }}

),

line_totals as (

    select
        invoice_id,
        count(*) as line_count,
        -- A sum of bigints is a 128-bit integer in DuckDB; minor units fit in 64 bits, and every reader of a
        -- 128-bit column pays for it (GX read it 6 s at 1M customers against 0.1 s as bigint).
        cast(sum(amount_minor) as {{ dbt.type_bigint() }}) as lines_total_minor
    from invoice_lines
    group by invoice_id

),

-- A total that disagrees with its lines is flagged, never corrected: both numbers stay visible.
final as (

    select
        invoices.invoice_id,
        invoices.account_number,
        accounts.customer_id,
        invoices.invoice_date,
        invoices.period_start_date,
        invoices.period_end_date,
        invoices.due_date,
        invoices.total_minor,
        coalesce(line_totals.lines_total_minor, 0) as lines_total_minor,
        coalesce(line_totals.line_count, 0) as line_count,
        invoices.currency,
        invoices.total_minor != coalesce(line_totals.lines_total_minor, 0) as is_total_mismatch,
        accounts.account_number is not null as has_known_account
    from invoices
    left join line_totals
        on invoices.invoice_id = line_totals.invoice_id
    left join accounts
        on invoices.account_number = accounts.account_number

)

select * from final
