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


def raw_suite(table: str, ctx: SuiteContext, columns: str, expectations: list[gxe.Expectation]) -> Suite:
    """Contract checks of `table` (row count, required columns, duplicate deliveries) plus the table's own.

    `columns` and `expectations` are the table's own row checks. They share one batch with the contract's
    not-null checks of the required columns: both read the same rows (the export days under test), and each
    batch costs GX a fixed ~0.1 s of Python whatever its size (see expectations/runtime.py).
    """
    spec = contract_tables()[table]
    required = [c["name"] for c in spec["columns"] if c.get("required")]
    own = [c.strip() for c in columns.split(",")]
    key = ", ".join(spec["key"])
    batches = [
        row_count_batch(ctx),
        Batch(
            name="rows",
            sql=f"select {', '.join(dict.fromkeys(required + own))} from {{relation}} where {{where}}",
            expectations=[gxe.ExpectColumnValuesToNotBeNull(column=c, severity=ERROR) for c in required]
            + list(expectations),
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
    return Suite(name=table, layer="raw", batches=batches)
