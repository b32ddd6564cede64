"""GX suite for marts.rpt_silent_attrition_watchlist: ranked, scored, and only customers still active."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Risk scores in [0, 1], ranks from 1, and nobody on the list has already left.

    "No complaint" is judged within the risk window only (a complaint a year ago does not make a customer
    loud now), which the model owns; the gate checks what must hold whatever the window: listed = active.
    """
    return Suite(
        name="rpt_silent_attrition_watchlist",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="select risk_rank, risk_score, n_recent_poor_experiences from {relation}",
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="risk_score", min_value=0, max_value=1, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(column="risk_rank", min_value=1, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="n_recent_poor_experiences", min_value=1, severity=ERROR
                    ),
                ],
            ),
            Batch(
                name="only_active_customers",
                sql="""
                    select count(*) as listed_but_not_active
                    from {relation} as watchlist
                    inner join marts.dim_customers as customers
                        on watchlist.customer_id = customers.customer_id
                    where customers.status <> 'active'
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="listed_but_not_active", min_value=0, max_value=0, severity=ERROR
                    )
                ],
            ),
        ],
    )
