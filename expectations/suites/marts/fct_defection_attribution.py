"""GX suite for marts.fct_defection_attribution: each defection's even weights sum to one."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext

SILOS = ["installation", "care", "billing", "marketing_sales", "network_service", "overall", "none"]


def build(ctx: SuiteContext) -> Suite:
    """Weights sum to one per defection, one last and first touch each, known silos, no defection left out."""
    return Suite(
        name="fct_defection_attribution",
        layer="marts",
        batches=[
            Batch(
                name="per_defection",
                sql="""
                    select
                        defection_id,
                        sum(even_weight) as weight_sum,
                        count(*) filter (where is_last_touch) as last_touch_rows,
                        count(*) filter (where is_first_touch) as first_touch_rows
                    from {relation}
                    group by defection_id
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="weight_sum", min_value=0.999999, max_value=1.000001, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="last_touch_rows", min_value=1, max_value=1, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="first_touch_rows", min_value=1, max_value=1, severity=ERROR
                    ),
                ],
            ),
            Batch(
                name="rows",
                sql="select silo, even_weight from {relation}",
                expectations=[
                    gxe.ExpectColumnValuesToBeInSet(column="silo", value_set=SILOS, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="even_weight", min_value=0, max_value=1, strict_min=True, severity=ERROR
                    ),
                ],
            ),
            Batch(
                name="every_defection_attributed",
                sql="""
                    select count(*) as unattributed_defections
                    from marts.fct_defections as defections
                    where not exists (
                        select 1 from {relation} as attribution
                        where attribution.defection_id = defections.defection_id
                    )
                """,
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="unattributed_defections", min_value=0, max_value=0, severity=ERROR
                    )
                ],
            ),
        ],
    )
