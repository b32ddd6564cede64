"""GX suite for raw.crm__customers: versions are written after the sign-up they describe."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus version after sign-up and e-mail mostly present."""
    return raw_suite(
        "crm__customers",
        ctx,
        columns="signed_up_at, updated_at, email",
        expectations=[
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="updated_at",
                column_B="signed_up_at",
                or_equal=True,
                mostly=0.99,
                severity=ERROR,
            ),
            gxe.ExpectColumnValuesToNotBeNull(column="email", mostly=0.8, severity=WARNING),
        ],
    )
