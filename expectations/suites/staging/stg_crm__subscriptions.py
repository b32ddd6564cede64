"""GX suite for staging.stg_crm__subscriptions: cancellations after starts, tiers known."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext


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
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="cancelled_at",
                        column_B="started_at",
                        or_equal=True,
                        ignore_row_if="either_value_is_missing",
                        mostly=0.99,
                        severity=ERROR,
                    ),
                    gxe.ExpectColumnValuesToNotBeNull(column="plan_tier", mostly=0.99, severity=WARNING),
                ],
            )
        ],
    )
