"""GX suite for marts.rpt_defection_by_stickiness: rates consistent, bands known."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Rates in [0, 1] inside their interval, defected never above customers, bands low/medium/high."""
    return Suite(
        name="rpt_defection_by_stickiness",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="""
                    select
                        stickiness_band,
                        customers,
                        customers_defected,
                        defection_rate,
                        defection_rate - defection_rate_ci_lower as below_rate,
                        defection_rate_ci_upper - defection_rate as above_rate
                    from {relation}
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeInSet(
                        column="stickiness_band", value_set=["low", "medium", "high"], severity=ERROR
                    ),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="customers", column_B="customers_defected", or_equal=True, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="defection_rate", min_value=0, max_value=1, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(column="below_rate", min_value=-1e-9, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(column="above_rate", min_value=-1e-9, severity=ERROR),
                ],
            )
        ],
    )
