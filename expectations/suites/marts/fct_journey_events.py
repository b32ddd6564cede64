"""GX suite for marts.fct_journey_events: events in order within each customer's journey."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, Batch, Suite, SuiteContext, row_count_expectation


def build(ctx: SuiteContext) -> Suite:
    """Row count, positive sequence numbers, non-negative gaps between consecutive events."""
    return Suite(
        name="fct_journey_events",
        layer="marts",
        batches=[
            Batch(
                name="rows",
                sql="select event_sequence, seconds_since_previous_event, occurred_at from {relation}",
                expectations=[
                    row_count_expectation(ctx, tolerance=0.05),
                    gxe.ExpectColumnValuesToBeBetween(column="event_sequence", min_value=1, severity=ERROR),
                    gxe.ExpectColumnValuesToBeBetween(
                        column="seconds_since_previous_event", min_value=0, severity=ERROR
                    ),
                    gxe.ExpectColumnValuesToNotBeNull(column="occurred_at", severity=ERROR),
                ],
            ),
        ],
    )
