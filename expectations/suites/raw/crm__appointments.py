"""GX suite for raw.crm__appointments: windows run forwards, completion comes after arrival."""

import great_expectations.expectations as gxe

from expectations.suite import WARNING, Suite, SuiteContext
from expectations.suites._order import appointment_order
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus window order, completion after arrival and known statuses."""
    return raw_suite(
        "crm__appointments",
        ctx,
        columns="window_start_at, window_end_at, arrived_at, completed_at, status, appointment_type",
        expectations=[
            *appointment_order(),
            gxe.ExpectColumnValuesToBeInSet(
                column="status",
                value_set=["COMPLETED", "NO_SHOW", "CANCELLED"],
                mostly=0.99,
                severity=WARNING,
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="appointment_type",
                value_set=["INSTALL", "REPAIR", "FOLLOW_UP"],
                severity=WARNING,
            ),
        ],
    )
