"""GX suite for marts.rpt_cohort_retention: survival never exceeds the cohort and starts whole."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Shares in [0, 1], active never above cohort size, month 0 mostly fully active."""
    return Suite(
        name="rpt_cohort_retention",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="select months_since_sign_up, cohort_customers, customers_active, share_active "
                "from {relation}",
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="share_active", min_value=0, max_value=1, severity=ERROR
                    ),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="cohort_customers",
                        column_B="customers_active",
                        or_equal=True,
                        severity=ERROR,
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="months_since_sign_up", min_value=0, severity=ERROR
                    ),
                ],
            ),
            Batch(
                name="month_zero",
                sql="select share_active from {relation} where months_since_sign_up = 0",
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="share_active", min_value=0.8, max_value=1, mostly=0.9, severity=WARNING
                    )
                ],
            ),
        ],
    )
