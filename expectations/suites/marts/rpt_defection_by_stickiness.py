"""GX suite for marts.rpt_defection_by_stickiness: rates consistent, bands known."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Rates in [0, 1] inside their interval, defected never above customers, bands low/medium/high with their
    sort key 1-3, a rate only where the status says estimated."""
    return Suite(
        name="rpt_defection_by_stickiness",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="""
                    select
                        stickiness_band,
                        stickiness_band_order,
                        estimate_status,
                        case when (estimate_status = 'estimated') = (defection_rate is not null) then 0 else 1
                            end as rate_against_status,
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
                    gxe.ExpectColumnValuesToBeInSet(
                        column="stickiness_band_order", value_set=[1, 2, 3], severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeInSet(
                        column="estimate_status",
                        value_set=["estimated", "insufficient_follow_up", "no_customers"],
                        severity=ERROR,
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="rate_against_status", min_value=0, max_value=0, severity=ERROR
                    ),
                ],
            )
        ],
    )
