"""What every raw table's suite checks, derived from raw/contract.yml so the gates follow the contract.

Raw batches read only the export days being loaded (`{where}`), so a suite judges the new delivery rather
than re-reading history.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import great_expectations.expectations as gxe
import yaml

from expectations.suite import ERROR, Batch, Suite, SuiteContext, row_count_batch

CONTRACT_PATH = Path(__file__).resolve().parents[3] / "raw" / "contract.yml"

# A re-delivered record now and then is normal untidiness; a day where a large share of a table comes twice
# is a broken export. Small days get an absolute allowance so one duplicate among three rows is not an alarm.
DUPLICATE_SHARE_LIMIT = 0.2
DUPLICATE_ALLOWANCE = 5


@cache
def contract_tables() -> dict:
    """The `tables` mapping of the raw landing contract."""
    return yaml.safe_load(CONTRACT_PATH.read_text())["tables"]


def raw_suite(table: str, ctx: SuiteContext, extra: list[Batch] | None = None) -> Suite:
    """Contract checks of `table` (row count, required columns, duplicate deliveries) plus `extra`."""
    spec = contract_tables()[table]
    required = [c["name"] for c in spec["columns"] if c.get("required")]
    key = ", ".join(spec["key"])
    batches = [
        row_count_batch(ctx),
        Batch(
            name="required_columns",
            sql=f"select {', '.join(required)} from {{relation}} where {{where}}",
            expectations=[gxe.ExpectColumnValuesToNotBeNull(column=c, severity=ERROR) for c in required],
        ),
        Batch(
            name="duplicate_deliveries",
            sql=f"""
                select
                    _export_date,
                    count(*) as delivered_rows,
                    count(*) - count(distinct ({key})) as duplicate_rows,
                    count(*) - count(distinct ({key}))
                        - greatest({DUPLICATE_ALLOWANCE}, {DUPLICATE_SHARE_LIMIT} * count(*))
                        as excess_duplicates
                from {{relation}}
                where {{where}}
                group by _export_date
            """,
            expectations=[
                gxe.ExpectColumnValuesToBeBetween(
                    column="excess_duplicates",
                    max_value=0,
                    severity=ERROR,
                    meta={
                        "rule": f"per export day, duplicates of ({key}) <= max({DUPLICATE_ALLOWANCE}, "
                        f"{DUPLICATE_SHARE_LIMIT:.0%} of rows)"
                    },
                )
            ],
        ),
    ]
    return Suite(name=table, layer="raw", batches=batches + list(extra or []))


def rows(columns: str) -> str:
    """SQL selecting `columns` of the export days under test."""
    return f"select {columns} from {{relation}} where {{where}}"
