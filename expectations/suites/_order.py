"""Rules on the order of a record's own timestamps and dates, each written once.

A raw suite checks a table's order on the delivered values (what the source promises); the staging suite
checks the same rule again after staging converts the local times to UTC (`to_utc`), which must not put
them out of order. Both call the rule from here, so the two gates cannot drift apart.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations.suite import ERROR


def not_before(
    later: str, earlier: str, *, mostly: float | None = None, skip_missing: bool = False
) -> gxe.Expectation:
    """Blocking: in each row column `later` is not before column `earlier` (equal is fine). `mostly` lets a
    share of untidy rows through; `skip_missing` leaves out rows where either value is missing."""
    options: dict = {}
    if mostly is not None:
        options["mostly"] = mostly
    if skip_missing:
        options["ignore_row_if"] = "either_value_is_missing"
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=later, column_B=earlier, or_equal=True, severity=ERROR, **options
    )


def appointment_order() -> list[gxe.Expectation]:
    """An appointment's window runs forwards; the technician completes after arriving."""
    return [
        not_before("window_end_at", "window_start_at"),
        not_before("completed_at", "arrived_at", mostly=0.99, skip_missing=True),
    ]


def service_event_order() -> list[gxe.Expectation]:
    """A network event ends at or after it starts."""
    return [not_before("ended_at", "started_at", mostly=0.99, skip_missing=True)]


def subscription_order() -> list[gxe.Expectation]:
    """A subscription is cancelled at or after it starts."""
    return [not_before("cancelled_at", "started_at", mostly=0.99, skip_missing=True)]
