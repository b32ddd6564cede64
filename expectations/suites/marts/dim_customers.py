"""GX suite for marts.dim_customers: counts, bounds, and the defection invariants against fct_defections."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext, row_count_expectation

# A synthetic or real telco loses a few percent to a few tens of percent of customers over the data's span;
# 0 or nearly everyone means the episode logic broke.
DEFECTION_RATE_BAND = (0.005, 0.7)


def build(ctx: SuiteContext) -> Suite:
    """Row count, tenure/risk bounds, defection-rate band, every defected customer has a defection row."""
    return Suite(
        name="dim_customers",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="select tenure_days, risk_score, stickiness_score from {relation}",
                expectations=[
                    row_count_expectation(ctx, tolerance=0.0),
                    gxe.ExpectColumnValuesToBeBetween(column="tenure_days", min_value=0, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="risk_score", min_value=0, max_value=1, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="stickiness_score", min_value=0, max_value=3, severity=ERROR
                    ),
                ],
            ),
            Batch(
                name="defection_rate",
                sql="select avg(case when has_defected then 1.0 else 0.0 end) as defection_rate "
                "from {relation}",
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="defection_rate",
                        min_value=DEFECTION_RATE_BAND[0],
                        max_value=DEFECTION_RATE_BAND[1],
                        severity=ERROR,
                    )
                ],
            ),
            Batch(
                name="defected_customers_have_defection_rows",
                sql="""
                    select
                        customers.customer_id,
                        customers.has_defected,
                        customers.n_defections,
                        count(defections.defection_id) as defection_rows
                    from {relation} as customers
                    left join marts.fct_defections as defections
                        on customers.customer_id = defections.customer_id
                    group by customers.customer_id, customers.has_defected, customers.n_defections
                """,
                expectations=[
                    gxe.ExpectColumnPairValuesToBeEqual(
                        column_A="n_defections", column_B="defection_rows", severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToNotBeNull(column="has_defected", severity=WARNING),
                ],
            ),
        ],
    )
