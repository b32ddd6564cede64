"""GX suite for marts.rpt_defections_by_silo: each attribution rule's shares sum to one."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Shares per attribution rule sum to one."""
    return Suite(
        name="rpt_defections_by_silo",
        layer="marts",
        batches=[
            Batch(
                name="shares",
                sql="select attribution_rule, sum(share_of_defections) as share_sum "
                "from {relation} group by attribution_rule",
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="share_sum", min_value=0.9999, max_value=1.0001, severity=ERROR
                    )
                ],
            )
        ],
    )
