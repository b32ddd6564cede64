"""GX suite for raw.billing__accounts: accounts mostly link to a CRM customer."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus the CRM link mostly filled."""
    return raw_suite(
        "billing__accounts",
        ctx,
        columns="crm_customer_id",
        expectations=[
            gxe.ExpectColumnValuesToNotBeNull(column="crm_customer_id", mostly=0.9, severity=WARNING)
        ],
    )
