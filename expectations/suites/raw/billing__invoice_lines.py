"""GX suite for raw.billing__invoice_lines: line types mostly known, amounts bounded."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus line type codes and amount bounds."""
    return raw_suite(
        "billing__invoice_lines",
        ctx,
        columns="line_type, amount_minor",
        expectations=[
            gxe.ExpectColumnValuesToBeInSet(
                column="line_type",
                value_set=["RECURRING", "ONE_TIME_FEE", "EQUIPMENT", "DISCOUNT", "PROMO"],
                mostly=0.95,
                severity=WARNING,
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount_minor",
                min_value=-100_000,
                max_value=300_000,
                mostly=0.99,
                severity=WARNING,
            ),
        ],
    )
