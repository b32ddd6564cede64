"""GX suite for marts.fct_poor_experiences: known silos, and a plausible share of customers affected.

The share of customers with a poor experience describes the company (its service, its feeds, the length
of its history): it is learned from the company's own last passing run (expectations/learned.py) and only
warns when it halves or grows by half (give or take 2 points) between two runs.
"""

import great_expectations.expectations as gxe

from expectations.learned import Drift, learned_between
from expectations.suite import ERROR, Batch, Suite, SuiteContext, row_count_expectation

# Absolute band and warning drift of the learned share of customers with a poor experience.
SHARE_WITH_POOR_EXPERIENCE = ((0, 1), Drift(below=0.5, above=1.5, slack=0.02))
SILOS = ["installation", "care", "billing", "marketing_sales", "network_service", "overall"]


def build(ctx: SuiteContext) -> Suite:
    """Row count, silo codes, evidence present, learned share of customers with a poor experience."""
    return Suite(
        name="fct_poor_experiences",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="select silo, occurred_at, evidence_id from {relation}",
                expectations=[
                    row_count_expectation(ctx, tolerance=0.05),
                    gxe.ExpectColumnValuesToBeInSet(column="silo", value_set=SILOS, severity=ERROR),
                    gxe.ExpectColumnValuesToNotBeNull(column="evidence_id", severity=ERROR),
                ],
            ),
            Batch(
                name="customer_share",
                sql="""
                    select
                        count(distinct poor.customer_id) * 1.0
                            / nullif(count(distinct customers.customer_id), 0)
                            as share_with_poor_experience
                    from marts.dim_customers as customers
                    left join {relation} as poor
                        on customers.customer_id = poor.customer_id
                """,
                expectations=learned_between(
                    ctx,
                    "share_with_poor_experience",
                    absolute=SHARE_WITH_POOR_EXPERIENCE[0],
                    blocking=Drift(),
                    warning=SHARE_WITH_POOR_EXPERIENCE[1],
                ),
            ),
        ],
    )
