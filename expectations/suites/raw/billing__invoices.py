"""GX suite for raw.billing__invoices: billing periods and due dates in order, totals plausible."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus period order, due after issue and total bounds."""
    return raw_suite(
        "billing__invoices",
        ctx,
        columns="period_start, period_end, invoice_date, due_date, total_minor",
        expectations=[
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="period_end", column_B="period_start", or_equal=True, severity=ERROR
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="due_date",
                column_B="invoice_date",
                or_equal=True,
                mostly=0.99,
                severity=ERROR,
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="total_minor",
                min_value=-100_000,
                max_value=500_000,
                mostly=0.99,
                severity=WARNING,
            ),
        ],
    )
