"""GX suite for raw.crm__customers: versions are written after the sign-up they describe."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites._order import not_before
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus version after sign-up and e-mail mostly present."""
    return raw_suite(
        "crm__customers",
        ctx,
        columns="signed_up_at, updated_at, email",
        expectations=[
            not_before("updated_at", "signed_up_at", mostly=0.99),
            gxe.ExpectColumnValuesToNotBeNull(column="email", mostly=0.8, severity=WARNING),
        ],
    )
