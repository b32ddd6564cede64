"""GX suite for raw.survey__responses: scores on a 0-10 scale, a few out-of-range values tolerated."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite

# The survey tool lets a few impossible scores through (the contract says they occur); staging drops them.
# More than this share in a delivery means the export itself is broken (e.g. a scale change).
OUT_OF_RANGE_TOLERATED = 0.05


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus scores within the widest scale (NPS 0-10), mostly."""
    return raw_suite(
        "survey__responses",
        ctx,
        columns="score",
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(
                column="score",
                min_value=0,
                max_value=10,
                mostly=1 - OUT_OF_RANGE_TOLERATED,
                severity=ERROR,
            )
        ],
    )
