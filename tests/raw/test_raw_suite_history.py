"""The raw GX suites judge a delivery against the table's own history: an optional column the source stops
sending blocks, one still in the header but empty all day only warns, a sparse one does not, and a corrected
re-delivery is judged against what it replaces.

The exports are hand-made in tmp_path and landed by the real loader; the suites run through the real GX
runner, as the Dagster raw gate runs them (export days under test in `where`, baseline from the last pass).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from expectations import state
from expectations.registry import build_suite
from expectations.runtime import GxRunner
from expectations.suite import SuiteContext
from raw.load import load_exports

FIRST = date(2024, 3, 1)
FULL_HEADER = "contact_id,case_id,customer_id,channel,contact_at,wait_seconds,handle_seconds,transfer_count"
SHORT_HEADER = "contact_id,case_id,customer_id,channel,contact_at,transfer_count"


def contacts(
    day: date, rows: int, header: str = FULL_HEADER, sparse_every: int = 3, timings: bool = True
) -> str:
    lines = [header]
    for i in range(rows):
        transfers = "1" if i % sparse_every == 0 else ""  # mostly empty: a sparse optional column
        values = [f"C{day:%m%d}{i}", f"K{i}", f"U{i}", "PHONE", f"{day}T09:{i % 60:02d}:00Z"]
        if "wait_seconds" in header:
            values += [str(30 + i), str(200 + i)] if timings else ["", ""]
        lines.append(",".join([*values, transfers]))
    return "\n".join(lines) + "\n"


def write(exports: Path, day: date, text: str) -> None:
    path = exports / day.isoformat() / "crm__contacts.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def runner(tmp_path) -> GxRunner:
    return GxRunner(tmp_path / "gx")


def gate(runner: GxRunner, warehouse: Path, days: list[date]):
    """The raw suite of crm__contacts over `days`, as the Dagster raw gate runs it (baseline kept on pass)."""
    where = f"_export_date between date '{min(days)}' and date '{max(days)}'"
    with duckdb.connect(str(warehouse)) as con:
        ctx = SuiteContext("raw.crm__contacts", where, state.previous_row_count(con, "crm__contacts"))
        outcome = runner.validate(
            con, build_suite("raw", "crm__contacts", ctx).bound("raw.crm__contacts", where)
        )
        if outcome.passed and outcome.row_count is not None:
            state.record_row_count(con, "crm__contacts", outcome.row_count)
    return outcome


def gate_a_day_after_a_passing_history(tmp_path, runner, text_of_day):
    """Ten days of 20 full contacts, gated and passed; then the day after them, written by `text_of_day(day)`,
    loaded and gated alone as the next raw gate would. Returns (warehouse, the new day, its outcome)."""
    exports, warehouse = tmp_path / "exports", tmp_path / "warehouse.duckdb"
    history = [FIRST + timedelta(days=i) for i in range(10)]
    for day in history:
        write(exports, day, contacts(day, 20))
    load_exports(warehouse, exports)
    assert gate(runner, warehouse, history).passed

    new = FIRST + timedelta(days=10)
    write(exports, new, text_of_day(new))
    load_exports(warehouse, exports, [new])
    return warehouse, new, gate(runner, warehouse, [new])


def test_optional_columns_the_source_stops_sending_block_and_the_audit_names_them(tmp_path, runner):
    warehouse, new, outcome = gate_a_day_after_a_passing_history(
        tmp_path, runner, lambda day: contacts(day, 20, header=SHORT_HEADER)
    )

    assert sorted(f.label() for f in outcome.blocking_failures) == [
        "crm__contacts.vanished_columns: expect_column_values_to_be_between(handle_seconds_vanished)",
        "crm__contacts.vanished_columns: expect_column_values_to_be_between(wait_seconds_vanished)",
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        absent = dict(con.execute("select export_date, absent_columns from raw.load_audit").fetchall())
    # The hand-made files never carry some optional columns (agent_id, ...): absent every day, no alarm.
    assert set(absent[new].split(",")) - set(absent[FIRST].split(",")) == {"wait_seconds", "handle_seconds"}
    assert "agent_id" in absent[FIRST].split(",")


def test_optional_columns_in_the_header_but_empty_all_day_warn_without_blocking(tmp_path, runner):
    # The header still carries wait_seconds and handle_seconds; no row has a value (a pause, as promotion
    # codes pause between campaigns, or an export that lost them: the header cannot tell, so it warns).
    _, _, outcome = gate_a_day_after_a_passing_history(
        tmp_path, runner, lambda day: contacts(day, 20, timings=False)
    )

    assert outcome.passed and not outcome.blocking_failures
    assert sorted(w.label() for w in outcome.warnings) == [
        "crm__contacts.vanished_columns: expect_column_values_to_be_between(handle_seconds_emptied)",
        "crm__contacts.vanished_columns: expect_column_values_to_be_between(wait_seconds_emptied)",
    ]


def test_a_sparse_optional_column_empty_on_a_small_day_passes(tmp_path, runner):
    exports, warehouse = tmp_path / "exports", tmp_path / "warehouse.duckdb"
    days = [FIRST + timedelta(days=i) for i in range(10)]
    for day in days:
        write(exports, day, contacts(day, 20))
    small = FIRST + timedelta(days=10)
    write(exports, small, contacts(small, 2, sparse_every=5)[: -len("\n")].replace(",1\n", ",\n") + "\n")
    load_exports(warehouse, exports)

    # Every day judged in one go, the first ones with no history at all, as a first load is.
    assert gate(runner, warehouse, [*days, small]).passed


def test_a_corrected_redelivery_with_fewer_rows_is_judged_against_what_it_replaces(tmp_path, runner):
    exports, warehouse = tmp_path / "exports", tmp_path / "warehouse.duckdb"
    days = [FIRST + timedelta(days=i) for i in range(3)]
    for day in days:
        write(exports, day, contacts(day, 20))
    load_exports(warehouse, exports)
    assert gate(runner, warehouse, days).passed

    # The source corrects the second day: 12 rows instead of 20, so the table shrinks from 60 to 52 rows.
    write(exports, days[1], contacts(days[1], 12))
    results = load_exports(warehouse, exports, [days[1]])
    assert [(r.status, r.rows_loaded) for r in results] == [("replaced", 12)]
    outcome = gate(runner, warehouse, [days[1]])
    assert outcome.passed, outcome.summary()
    assert outcome.row_count == 52

    # Rows lost any other way still block, naming how many are missing.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw.crm__contacts where _export_date = ?", [days[0]])
    outcome = gate(runner, warehouse, [days[2]])
    assert [f.label() for f in outcome.blocking_failures] == [
        "crm__contacts.volume: expect_column_values_to_be_between(missing_rows)"
    ]
    assert outcome.blocking_failures[0].observed["partial_unexpected_list"] == [20]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select export_date, rows_withdrawn from raw.load_withdrawals").fetchall() == [
            (days[1], 20)
        ]
