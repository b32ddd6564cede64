"""GX suite for marts.fct_downgrades: a downgrade lowers the tier."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """From-tier above to-tier; the price mostly drops too."""
    return Suite(
        name="fct_downgrades",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="select from_plan_tier, to_plan_tier, monthly_price_change_minor from {relation}",
                expectations=[
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="from_plan_tier", column_B="to_plan_tier", severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="monthly_price_change_minor", max_value=0, mostly=0.95, severity=WARNING
                    ),
                ],
            )
        ],
    )
