"""Daily partitions by export date, shared by every asset of the warehouse job."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg

from orchestration.settings import partitions_start_date

# end_offset=1: today's export folder is a partition as soon as it lands, not only tomorrow.
export_days = dg.DailyPartitionsDefinition(start_date=partitions_start_date().isoformat(), end_offset=1)


def days_in_range(start_key: str, end_key: str) -> list[date]:
    """Every day from `start_key` to `end_key` inclusive (partition keys are ISO dates)."""
    first, last = date.fromisoformat(start_key), date.fromisoformat(end_key)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
