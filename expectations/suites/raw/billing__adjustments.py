"""GX suite for raw.billing__adjustments: known reasons, bounded amounts."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus reason codes and amount bounds."""
    return raw_suite(
        "billing__adjustments",
        ctx,
        columns="reason_code, amount_minor",
        expectations=[
            gxe.ExpectColumnValuesToBeInSet(
                column="reason_code",
                value_set=["GOODWILL", "COMPLAINT_CREDIT", "CORRECTION"],
                mostly=0.95,
                severity=WARNING,
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount_minor",
                min_value=-200_000,
                max_value=200_000,
                mostly=0.99,
                severity=WARNING,
            ),
        ],
    )
