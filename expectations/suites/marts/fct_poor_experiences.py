"""GX suite for marts.fct_poor_experiences: known silos, and a plausible share of customers affected."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Batch, Suite, SuiteContext, row_count_expectation

SILOS = ["installation", "care", "billing", "marketing_sales", "network_service", "overall"]


def build(ctx: SuiteContext) -> Suite:
    """Row count, silo codes, evidence present, share of customers with a poor experience in a band."""
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
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="share_with_poor_experience", min_value=0.05, max_value=0.98, severity=WARNING
                    )
                ],
            ),
        ],
    )
