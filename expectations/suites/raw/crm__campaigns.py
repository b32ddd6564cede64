"""GX suite for raw.crm__campaigns: campaigns run forwards and promise a plausible price."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites._order import not_before
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus campaign dates in order and channel codes known."""
    return raw_suite(
        "crm__campaigns",
        ctx,
        columns="starts_on, ends_on, channel, promised_monthly_price_minor",
        expectations=[
            not_before("ends_on", "starts_on", mostly=0.99),
            gxe.ExpectColumnValuesToBeInSet(
                column="channel",
                value_set=["TV", "ONLINE", "DOOR_TO_DOOR", "RETAIL", "PARTNER"],
                mostly=0.95,
                severity=WARNING,
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="promised_monthly_price_minor",
                min_value=0,
                max_value=100_000,
                severity=WARNING,
            ),
        ],
    )
