"""GX suite for marts.dim_customers: counts, bounds, and the defection invariants against fct_defections.

The defection rate describes the company, not a rule: it is learned from the company's own last passing
run (expectations/learned.py). It grows with the history (more time to leave) by a day's worth between two
runs; a rate a quarter or four times the last one (give or take 2 points, for the first days of a
history) means the episode logic broke, half or double it warns. Any company's rate lies in [0, 1].
"""

import great_expectations.expectations as gxe

from expectations.learned import Drift, learned_between
from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext, row_count_expectation

# (absolute band, blocking drift, warning drift) of the learned defection rate.
DEFECTION_RATE = ((0, 1), Drift(below=0.25, above=4, slack=0.02), Drift(below=0.5, above=2, slack=0.01))


def build(ctx: SuiteContext) -> Suite:
    """Row count, tenure/risk bounds, learned defection rate, every defected customer has a defection row."""
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
                expectations=learned_between(
                    ctx,
                    "defection_rate",
                    absolute=DEFECTION_RATE[0],
                    blocking=DEFECTION_RATE[1],
                    warning=DEFECTION_RATE[2],
                ),
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
