"""GX suite for raw.crm__cases: a case closes after it opens."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites._order import not_before
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus closed after opened and case types known."""
    return raw_suite(
        "crm__cases",
        ctx,
        columns="opened_at, closed_at, case_type",
        expectations=[
            not_before("closed_at", "opened_at", mostly=0.99, skip_missing=True),
            gxe.ExpectColumnValuesToBeInSet(
                column="case_type",
                value_set=["SERVICE_FAULT", "BILLING_QUERY", "COMPLAINT", "MOVING", "GENERAL"],
                mostly=0.95,
                severity=WARNING,
            ),
        ],
    )
