"""GX suite for raw.crm__contacts: waits, handling times and transfers within plausible bounds."""

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, Suite, SuiteContext
from expectations.suites.raw._contract import raw_suite


def build(ctx: SuiteContext) -> Suite:
    """Contract checks plus non-negative durations, bounded transfers and mostly known channels."""
    return raw_suite(
        "crm__contacts",
        ctx,
        columns="wait_seconds, handle_seconds, transfer_count, channel",
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(column="wait_seconds", min_value=0, severity=ERROR),
            gxe.ExpectColumnValuesToBeBetween(
                column="wait_seconds", max_value=4 * 3600, mostly=0.99, severity=WARNING
            ),
            gxe.ExpectColumnValuesToBeBetween(column="handle_seconds", min_value=0, severity=ERROR),
            gxe.ExpectColumnValuesToBeBetween(
                column="transfer_count", min_value=0, max_value=20, mostly=0.999, severity=ERROR
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="channel",
                value_set=["PHONE", "EMAIL", "CHAT", "SOCIAL"],
                mostly=0.95,
                severity=WARNING,
            ),
        ],
    )
