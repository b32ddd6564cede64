"""GX suite for raw.crm__subscriptions: cancellations after starts, known statuses and cancel types."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Suite, SuiteContext
from expectations.suites._order import subscription_order
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus cancellation after start, status/cancel type codes and price bounds."""
    return raw_suite(
        "crm__subscriptions",
        ctx,
        columns="started_at, cancelled_at, status, cancel_type, monthly_price_minor",
        expectations=[
            *subscription_order(),
            gxe.ExpectColumnValuesToBeInSet(
                column="status", value_set=["ACTIVE", "CANCELLED"], severity=ERROR
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="cancel_type", value_set=["VOL", "INVOL"], severity=WARNING
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="monthly_price_minor",
                min_value=0,
                max_value=100_000,
                mostly=0.99,
                severity=WARNING,
            ),
        ],
    )
