"""The optional network feed (raw network__service_events) from export files to poor experiences.

A tiny hand-written company (customers and subscriptions, the minimal export) also delivers network events:
outages planted at and next to the long_outage threshold of seed poor_experience_rules, a degraded-service
event, an open outage whose end arrives the next export day, and a row without a start (set aside). The
loader lands the feed as any other table; dbt builds the rule model and what it reads (full build, then an
incremental run after the next day, which also corrects an outage below the threshold), and the hits are
exactly the planted ones. Without the feed the table lands empty (tests/raw/test_own_exports.py covers every
absent table).
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from support import REPO_ROOT, run_dbt

from raw.load import load_exports

TABLE = "network__service_events"
RULE_MODEL = "int_poor_experiences__network_long_outage"
CUSTOMERS = "customer_id,signed_up_at,updated_at\n" + "".join(
    f"U{i},2023-05-01T10:00:00Z,2023-05-01T10:00:00Z\n" for i in range(1, 6)
)
SUBSCRIPTIONS = (
    "subscription_id,customer_id,product,plan_code,contract_type,status,started_at,updated_at\n"
    + "".join(
        f"S{i},U{i},BROADBAND,FIBER_500,MONTHLY,ACTIVE,2023-05-02T00:00:00Z,2023-05-02T00:00:00Z\n"
        for i in range(1, 6)
    )
)
HEADER = "event_id,customer_id,event_type,product,service_area,started_at,ended_at,updated_at\n"


def _threshold_minutes() -> int:
    with open(REPO_ROOT / "seeds" / "poor_experience_rules.csv", newline="", encoding="utf-8") as handle:
        rules = {row["rule_id"]: row for row in csv.DictReader(handle)}
    assert rules["long_outage"]["threshold_unit"] == "minutes"
    return int(float(rules["long_outage"]["threshold"]))


def _event(event_id, customer, kind, start: datetime, minutes: int | None, updated: datetime) -> str:
    end = "" if minutes is None else (start + timedelta(minutes=minutes)).isoformat()
    return f"{event_id},{customer},{kind},broadband,AREA_1,{start.isoformat()},{end},{updated.isoformat()}\n"


def _write(exports: Path, day: str, table: str, text: str) -> None:
    path = exports / day / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _hits(warehouse: Path) -> set[tuple[str, str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"select customer_id, evidence_id, silo from intermediate.{RULE_MODEL} "
            "where rule_id = 'long_outage'"
        ).fetchall()
    return set(rows)


@pytest.mark.slow
def test_outages_at_and_next_to_the_threshold_load_stage_and_fire(tmp_path):
    threshold = _threshold_minutes()
    exports, warehouse, work = tmp_path / "exports", tmp_path / "warehouse.duckdb", tmp_path / "dbt"
    # Offsets vary between rows, as in every feed: the rule compares instants.
    start = datetime.fromisoformat("2024-03-06T07:00:00+01:00")
    day1 = datetime.fromisoformat("2024-03-06T23:00:00+00:00")
    _write(exports, "2024-03-07", "crm__customers", CUSTOMERS)
    _write(exports, "2024-03-07", "crm__subscriptions", SUBSCRIPTIONS)
    _write(
        exports,
        "2024-03-07",
        TABLE,
        HEADER
        + _event("N1", "U1", "OUTAGE", start, threshold + 1, day1)
        + _event("N2", "U2", "OUTAGE", start, threshold, day1)
        + _event("N3", "U3", "DEGRADED", start, 10 * threshold, day1)
        + _event("N4", "U4", "OUTAGE", start, None, day1)
        + "N5,U5,OUTAGE,broadband,AREA_1,,,2024-03-06T23:00:00Z\n",
    )

    results = {r.table_name: r for r in load_exports(warehouse, exports)}
    assert (results[TABLE].rows_delivered, results[TABLE].rows_loaded, results[TABLE].rows_quarantined) == (
        5,
        4,
        1,
    )

    run_dbt(
        ["build", "--select", f"+{RULE_MODEL}", "--resource-type", "seed", "model", "unit_test"],
        warehouse,
        work,
    )
    assert _hits(warehouse) == {("U1", "N1", "network_service")}

    # The next day the open outage ends past the threshold (a new hit), and N1 is corrected to a shorter
    # outage (its hit vanishes): the incremental run finds both customers through the change set.
    day2 = datetime.fromisoformat("2024-03-07T23:00:00+00:00")
    _write(
        exports,
        "2024-03-08",
        TABLE,
        HEADER
        + _event("N4", "U4", "OUTAGE", start, threshold + 60, day2)
        + _event("N1", "U1", "OUTAGE", start, threshold - 1, day2),
    )
    load_exports(warehouse, exports, ["2024-03-08"])
    run_dbt(["run", "--select", f"+{RULE_MODEL}"], warehouse, work)

    assert _hits(warehouse) == {("U4", "N4", "network_service")}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        staged = con.execute(
            "select event_id, ended_at is not null from staging.stg_network__service_events order by event_id"
        ).fetchall()
    assert staged == [("N1", True), ("N2", True), ("N3", True), ("N4", True)]
