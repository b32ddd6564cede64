"""GX suite for raw.network__service_events: an event ends after it starts and its type is known."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites._order import service_event_order
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus ended at or after started and event types known."""
    return raw_suite(
        "network__service_events",
        ctx,
        columns="started_at, ended_at, event_type",
        expectations=[
            *service_event_order(),
            gxe.ExpectColumnValuesToBeInSet(
                column="event_type", value_set=["OUTAGE", "DEGRADED"], mostly=0.95, severity=WARNING
            ),
        ],
    )
