"""GX suite for raw.survey__surveys: a scale runs upwards."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus scale_max above scale_min."""
    return raw_suite(
        "survey__surveys",
        ctx,
        columns="scale_min, scale_max",
        expectations=[
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="scale_max", column_B="scale_min", severity=ERROR
            )
        ],
    )
