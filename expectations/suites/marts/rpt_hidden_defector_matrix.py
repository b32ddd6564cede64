"""GX suite for marts.rpt_hidden_defector_matrix: at most four cells, rates inside their intervals."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Four cells at most, rates in [0, 1] and within their Wilson interval, cells add up to dim_customers."""
    return Suite(
        name="rpt_hidden_defector_matrix",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="""
                    select
                        defection_rate,
                        defection_rate - defection_rate_ci_lower as below_rate,
                        defection_rate_ci_upper - defection_rate as above_rate
                    from {relation}
                """,
                expectations=[
                    gxe.ExpectTableRowCountToBeBetween(min_value=1, max_value=4, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="defection_rate", min_value=0, max_value=1, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(column="below_rate", min_value=-1e-9, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(column="above_rate", min_value=-1e-9, severity=ERROR),
                ],
            ),
            Batch(
                name="cells_cover_every_customer",
                sql="""
                    select
                        (select sum(customers) from {relation})
                        - (select count(*) from marts.dim_customers) as customers_not_in_a_cell
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="customers_not_in_a_cell", min_value=0, max_value=0, severity=ERROR
                    )
                ],
            ),
        ],
    )
