"""GX suite for marts.fct_defections: defections come after sign-up, with sane tenure and value lost."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext, row_count_expectation


def build(ctx: SuiteContext) -> Suite:
    """Row count, defection after sign-up and episode start, bounds, known types, hidden = no complaint."""
    return Suite(
        name="fct_defections",
        layer="marts",
        batches=[
            Batch(
                name="after_sign_up",
                sql="""
                    select defections.defected_at, customers.signed_up_at
                    from {relation} as defections
                    inner join marts.dim_customers as customers
                        on defections.customer_id = customers.customer_id
                """,
                expectations=[
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="defected_at", column_B="signed_up_at", or_equal=True, severity=ERROR
                    )
                ],
            ),
            Batch(
                name="rows",
                sql="""
                    select defected_at, episode_started_at, tenure_days, defection_type,
                        monthly_value_lost_minor, is_hidden, has_complained_in_lookback
                    from {relation}
                """,
                expectations=[
                    row_count_expectation(ctx, tolerance=0.05),
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A="defected_at", column_B="episode_started_at", or_equal=True, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(column="tenure_days", min_value=0, severity=ERROR),
                    gxe.ExpectColumnValuesToBeInSet(
                        column="defection_type", value_set=["voluntary", "involuntary"], severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="monthly_value_lost_minor",
                        min_value=0,
                        max_value=100_000,
                        mostly=0.99,
                        severity=WARNING,
                    ),
                ],
            ),
            Batch(
                name="hidden_means_no_complaint",
                sql="select count(*) as hidden_with_complaint from {relation} "
                "where is_hidden and has_complained_in_lookback",
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="hidden_with_complaint", min_value=0, max_value=0, severity=ERROR
                    )
                ],
            ),
        ],
    )
