"""GX suite for raw.survey__invitations: triggers are known kinds."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus trigger types known."""
    return raw_suite(
        "survey__invitations",
        ctx,
        columns="trigger_type",
        expectations=[
            gxe.ExpectColumnValuesToBeInSet(
                column="trigger_type",
                value_set=["CONTACT", "APPOINTMENT", "RELATIONSHIP"],
                severity=WARNING,
            )
        ],
    )
