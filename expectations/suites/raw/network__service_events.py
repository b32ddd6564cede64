"""GX suite for raw.network__service_events: an event ends after it starts and its type is known."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus ended at or after started and event types known."""
    return raw_suite(
        "network__service_events",
        ctx,
        columns="started_at, ended_at, event_type",
        expectations=[
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="ended_at",
                column_B="started_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                mostly=0.99,
                severity=ERROR,
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="event_type", value_set=["OUTAGE", "DEGRADED"], mostly=0.95, severity=WARNING
            ),
        ],
    )
