"""GX suite for staging.stg_survey__responses: scores on the 0-10 scale once staged."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Batch, Suite, SuiteContext


def build(ctx: SuiteContext) -> Suite:
    """Scores within 0-10 (warning: staging keeps out-of-range rows for the quarantine view)."""
    return Suite(
        name="stg_survey__responses",
        layer="staging",
        batches=[
            Batch(
                name="rows",
                sql="select score from {relation}",
                expectations=[
                    gxe.ExpectColumnValuesToBeBetween(
                        column="score", min_value=0, max_value=10, mostly=0.98, severity=WARNING
                    )
                ],
            )
        ],
    )
