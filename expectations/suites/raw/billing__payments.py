"""GX suite for raw.billing__payments: positive attempts with known outcomes."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus positive amounts, known statuses."""
    return raw_suite(
        "billing__payments",
        ctx,
        columns="amount_minor, status",
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(
                column="amount_minor", min_value=0, mostly=0.99, severity=ERROR
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="status", value_set=["SUCCEEDED", "FAILED"], severity=ERROR
            ),
        ],
    )
