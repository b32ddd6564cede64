"""GX suite for raw.billing__invoices: billing periods and due dates in order, totals plausible."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites._order import not_before
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus period order, due after issue and total bounds."""
    return raw_suite(
        "billing__invoices",
        ctx,
        columns="period_start, period_end, invoice_date, due_date, total_minor",
        expectations=[
            not_before("period_end", "period_start"),
            not_before("due_date", "invoice_date", mostly=0.99),
            gxe.ExpectColumnValuesToBeBetween(
                column="total_minor",
                min_value=-100_000,
                max_value=500_000,
                mostly=0.99,
                severity=WARNING,
            ),
        ],
    )
