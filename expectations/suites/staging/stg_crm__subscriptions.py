"""GX suite for staging.stg_crm__subscriptions: cancellations after starts, tiers known."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Batch, Suite, SuiteContext
from expectations.suites._order import subscription_order


def build(ctx: SuiteContext) -> Suite:
    """Cancelled after started; plan tier resolved from the plans seed."""
    return Suite(
        name="stg_crm__subscriptions",
        layer="staging",
        batches=[
            Batch(
                name="rows",
                sql="select started_at, cancelled_at, plan_tier, status from {relation}",
                expectations=[
                    *subscription_order(),
                    gxe.ExpectColumnValuesToNotBeNull(column="plan_tier", mostly=0.99, severity=WARNING),
                ],
            )
        ],
    )
