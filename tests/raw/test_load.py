"""The raw loader: every delivered record lands or is quarantined with a reason, and the counts reconcile.

Most tests write small hand-made CSV files into a tmp exports folder, so the expected outcome is readable
from the input itself; one slow test reconciles the loader against the generated small company.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

import raw.load as loader
from raw.contract import DOCS_PATH, load_contract, render_markdown
from raw.load import (
    ContractError,
    FileLoadResult,
    RawSchemaError,
    available_export_dates,
    ensure_raw_schema,
    load_export_day,
    load_exports,
    parse,
)
from raw.load import batches as batching

DAY = date(2024, 3, 7)
SURVEYS_HEADER = "survey_id,survey_type,scale_min,scale_max,question"
CONTACTS_HEADER = "contact_id,case_id,customer_id,channel,contact_at,wait_seconds"


def write_export(exports: Path, day: date, table: str, text: str) -> Path:
    """Write one export file exactly as given (no newline translation)."""
    path = exports / day.isoformat() / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def audit(warehouse: Path) -> list[tuple]:
    return query(
        warehouse,
        "select table_name, export_date, source_file, rows_delivered, rows_loaded, rows_quarantined, status "
        "from raw.load_audit order by source_file, status",
    )


def table_snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of every raw table (load metadata included), sorted, for before/after comparisons."""
    tables = [*load_contract().tables, "load_audit", "load_quarantine"]
    return {t: sorted(query(warehouse, f"select * from raw.{t}"), key=repr) for t in tables}


@pytest.fixture
def exports(tmp_path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return tmp_path / "wh" / "warehouse.duckdb"


# ----------------------------------------------------------------- rows that do not fit: quarantined


def test_malformed_rows_are_quarantined_with_reasons_and_physical_line_numbers(exports, warehouse):
    lines = [
        SURVEYS_HEADER,  # line 1
        'S1,NPS,0,10,"How likely, ""really""?"',  # 2 good, quoted comma and quotes
        "S2,CSAT,1,five,q",  # 3 bad integer
        'S3,CSAT,1,5,"a question',  # 4-5 good, value spans two lines
        'over two lines"',
        "S4,,1,5,q",  # 6 required survey_type empty
        "S5,NPS,0,10,q,extra",  # 7 too many fields
        "S6,NPS,0",  # 8 too few fields
        "",  # 9 blank line
        "S7,NPS,1.5,10,q",  # 10 not a whole number (DuckDB would round it)
        'S8,NPS,0,10,un"quoted',  # 11 stray quote: with line 12 it makes no record, so each is its own
        'x"',  # 12
        "S9,NPS,0,10,",  # 13 good, optional question empty
    ]
    write_export(exports, DAY, "survey__surveys", "\r\n".join(lines) + "\r\n")

    (result,) = load_exports(warehouse, exports)

    assert (result.rows_delivered, result.rows_loaded, result.rows_quarantined) == (11, 3, 8)
    loaded = query(
        warehouse,
        "select survey_id, _line_number, scale_min, question from raw.survey__surveys order by _line_number",
    )
    assert loaded == [
        ("S1", 2, 0, 'How likely, "really"?'),
        ("S3", 4, 1, "a question\r\nover two lines"),  # the line break as delivered (CRLF)
        ("S9", 13, 0, None),
    ]
    quarantined = query(
        warehouse, "select line_number, raw_line, reason from raw.load_quarantine order by line_number"
    )
    assert [(q[0], q[1]) for q in quarantined] == [
        (3, lines[2]),
        (6, lines[5]),
        (7, lines[6]),
        (8, lines[7]),
        (9, ""),
        (10, lines[9]),
        (11, lines[10]),
        (12, lines[11]),
    ]
    reasons = {q[0]: q[2] for q in quarantined}
    assert "scale_max" in reasons[3] and "'five'" in reasons[3] and "whole number" in reasons[3]
    assert "survey_type" in reasons[6] and "required" in reasons[6]
    assert "expected 5" in reasons[7] and "found 6" in reasons[7]
    assert "expected 5" in reasons[8] and "found 3" in reasons[8]
    assert "blank" in reasons[9]
    assert "scale_min" in reasons[10] and "'1.5'" in reasons[10]
    assert "quot" in reasons[11] and "quot" in reasons[12]


def test_bad_dates_timestamps_and_booleans_are_quarantined(exports, warehouse):
    header = "customer_id,signed_up_at,marketing_opt_in,updated_at"
    write_export(
        exports,
        DAY,
        "crm__customers",
        f"{header}\n"
        "U1,2024-03-01T10:00:00+01:00,true,2024-03-07T08:00:00Z\n"  # 2 good
        "U2,2024-03-01T10:00:00,true,2024-03-07T08:00:00Z\n"  # 3 timestamp without offset
        "U3,2024-03-01T10:00:00+01:00,maybe,2024-03-07T08:00:00Z\n"  # 4 not a boolean
        "U4,2024-02-30T10:00:00+01:00,false,2024-03-07T08:00:00Z\n"  # 5 no such day
        "U5,2024-03-01T10:00:00+01:00,,\n",  # 6 required updated_at empty
    )
    write_export(
        exports,
        DAY,
        "billing__invoices",
        "invoice_id,account_number,invoice_date,period_start,period_end,due_date,total_minor,currency\n"
        "I1,A1,2024-03-07,2024-02-01,2024-02-29,2024-03-21,1999,EUR\n"  # 2 good
        "I2,A1,2024-03-07 10:00,2024-02-01,2024-02-29,2024-03-21,1999,EUR\n"  # 3 date with a time
        "I3,A1,07/03/2024,2024-02-01,2024-02-29,2024-03-21,19.99,EUR\n",  # 4 two bad values
    )

    load_exports(warehouse, exports)

    rows = query(
        warehouse,
        "select table_name, line_number, reason from raw.load_quarantine order by table_name, line_number",
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("billing__invoices", 3),
        ("billing__invoices", 4),
        ("crm__customers", 3),
        ("crm__customers", 4),
        ("crm__customers", 5),
        ("crm__customers", 6),
    ]
    reasons = {(r[0], r[1]): r[2] for r in rows}
    assert "invoice_date" in reasons[("billing__invoices", 3)]
    assert (
        "invoice_date" in reasons[("billing__invoices", 4)]
        and "total_minor" in reasons[("billing__invoices", 4)]
    )
    assert "signed_up_at" in reasons[("crm__customers", 3)] and "offset" in reasons[("crm__customers", 3)]
    assert "marketing_opt_in" in reasons[("crm__customers", 4)]
    assert "signed_up_at" in reasons[("crm__customers", 5)]
    assert "updated_at" in reasons[("crm__customers", 6)] and "required" in reasons[("crm__customers", 6)]
    assert query(warehouse, "select customer_id, marketing_opt_in from raw.crm__customers") == [("U1", True)]
    assert query(warehouse, "select invoice_id, total_minor from raw.billing__invoices") == [("I1", 1999)]


# ----------------------------------------------------------------- empty files, schema changes


def test_empty_and_header_only_files_are_audited_with_zero_rows(exports, warehouse):
    write_export(exports, DAY, "survey__surveys", "")
    write_export(exports, DAY, "survey__responses", "response_id,invitation_id,responded_at,score\n")
    write_export(exports, DAY, "survey__invitations", "invitation_id,survey_id,email,sent_at")  # no newline

    results = load_exports(warehouse, exports)

    assert {
        (r.table_name, r.rows_delivered, r.rows_loaded, r.rows_quarantined, r.status) for r in results
    } == {
        ("survey__surveys", 0, 0, 0, "loaded"),
        ("survey__responses", 0, 0, 0, "loaded"),
        ("survey__invitations", 0, 0, 0, "loaded"),
    }
    assert len(audit(warehouse)) == 3
    assert query(warehouse, "select count(*) from raw.load_quarantine") == [(0,)]


def test_old_header_queue_seconds_lands_in_wait_seconds(exports, warehouse):
    old, new = date(2024, 3, 1), date(2024, 3, 2)
    old_header = CONTACTS_HEADER.replace("wait_seconds", "queue_seconds")
    write_export(exports, old, "crm__contacts", f"{old_header}\nC1,K1,U1,PHONE,2024-03-01T09:00:00Z,40\n")
    write_export(
        exports, new, "crm__contacts", f"{CONTACTS_HEADER}\nC2,K1,U1,PHONE,2024-03-02T09:00:00Z,50\n"
    )

    load_exports(warehouse, exports)

    rows = query(
        warehouse, "select contact_id, wait_seconds, handle_seconds from raw.crm__contacts order by 1"
    )
    assert rows == [("C1", 40, None), ("C2", 50, None)]
    columns = [r[0] for r in query(warehouse, "describe raw.crm__contacts")]
    assert "queue_seconds" not in columns
    assert columns[: len(load_contract().tables["crm__contacts"].columns)] == (
        load_contract().tables["crm__contacts"].column_names
    )


def test_tax_minor_absent_before_and_present_after_the_change(exports, warehouse):
    before, after = date(2024, 3, 1), date(2024, 3, 2)
    header = "invoice_line_id,invoice_id,line_type,amount_minor"
    write_export(exports, before, "billing__invoice_lines", f"{header}\nL1,I1,RECURRING,2500\n")
    # Columns in another order than the contract's, to show fields map by header name, not position.
    write_export(
        exports,
        after,
        "billing__invoice_lines",
        "tax_minor,amount_minor,invoice_line_id,invoice_id,line_type\n500,2600,L2,I2,RECURRING\n",
    )

    load_exports(warehouse, exports)

    rows = query(
        warehouse,
        "select invoice_line_id, amount_minor, tax_minor from raw.billing__invoice_lines order by 1",
    )
    assert rows == [("L1", 2500, None), ("L2", 2600, 500)]


def test_mixed_offsets_land_as_the_same_utc_instant(exports, warehouse):
    instants = [
        "2024-03-07T09:15:00+02:00",
        "2024-03-07T07:15:00Z",
        "2024-03-07T02:15:00-05:00",
        "2024-03-07T12:45:00+05:30",
        "2024-03-07 07:15:00+00:00",
    ]
    body = "".join(f"C{i},K1,U1,PHONE,{ts},\n" for i, ts in enumerate(instants))
    write_export(exports, DAY, "crm__contacts", f"{CONTACTS_HEADER}\n{body}")

    # A session time zone far from UTC must not change where offset-bearing instants land.
    with duckdb.connect(":memory:") as con:
        con.execute("set timezone = 'America/Los_Angeles'")
        load_export_day(con, exports, DAY)
        epochs = con.execute("select distinct epoch(contact_at) from raw.crm__contacts").fetchall()
    expected = datetime(2024, 3, 7, 7, 15, tzinfo=UTC).timestamp()
    assert epochs == [(expected,)]


# ----------------------------------------------------------------- contract breaks: refused whole


@pytest.mark.parametrize(
    ("table", "text", "named"),
    [
        (
            "crm__contacts",
            "contact_id,case_id,channel,contact_at\nC1,K1,PHONE,2024-03-07T09:00:00Z\n",
            "customer_id",
        ),
        (
            "crm__contacts",
            f"{CONTACTS_HEADER},queue_seconds\nC1,K1,U1,PHONE,2024-03-07T09:00:00Z,4,4\n",
            "queue_seconds",
        ),
        ("crm__contactz", f"{CONTACTS_HEADER}\nC1,K1,U1,PHONE,2024-03-07T09:00:00Z,4\n", "crm__contactz"),
        ("crm__contacts", '"contact_id,case_id\nC1,K1\n', "header"),
    ],
    ids=["missing-required", "old-and-new-name", "unknown-table", "unreadable-header"],
)
def test_contract_break_refuses_the_file_and_loads_the_rest_of_the_day(
    exports, warehouse, table, text, named
):
    write_export(exports, DAY, table, text)
    write_export(exports, DAY, "survey__surveys", f"{SURVEYS_HEADER}\nS1,NPS,0,10,q\n")

    with pytest.raises(ContractError) as raised:
        load_exports(warehouse, exports)

    message = str(raised.value)
    assert f"2024-03-07/{table}.csv" in message and named in message
    assert [r.source_file for r in raised.value.refused] == [f"2024-03-07/{table}.csv"]
    assert [r.table_name for r in raised.value.results] == ["survey__surveys"]
    assert query(warehouse, "select count(*) from raw.crm__contacts") == [(0,)]
    assert query(warehouse, "select count(*) from raw.load_quarantine") == [(0,)]
    assert query(warehouse, "select count(*) from raw.survey__surveys") == [(1,)]
    refused = query(
        warehouse, "select source_file, rows_loaded, message from raw.load_audit where status = 'refused'"
    )
    assert len(refused) == 1 and refused[0][:2] == (f"2024-03-07/{table}.csv", 0) and named in refused[0][2]


def test_file_that_is_not_utf8_is_refused(exports, warehouse):
    path = write_export(exports, DAY, "survey__surveys", f"{SURVEYS_HEADER}\nS1,NPS,0,10,q\n")
    path.write_bytes(path.read_bytes() + b"S2,NPS,0,10,caf\xe9\n")  # Latin-1, not UTF-8

    with pytest.raises(ContractError, match="survey__surveys.csv.*unreadable"):
        load_exports(warehouse, exports)

    assert query(warehouse, "select count(*) from raw.survey__surveys") == [(0,)]


def test_refused_file_fixed_and_redelivered_then_loads(exports, warehouse):
    # no customer_id: a required column is missing
    write_export(
        exports,
        DAY,
        "crm__contacts",
        "contact_id,case_id,channel,contact_at\nC1,K1,PHONE,2024-03-07T09:00:00Z\n",
    )
    with pytest.raises(ContractError):
        load_exports(warehouse, exports)
    with pytest.raises(ContractError):  # refused again: still one refusal row, not two
        load_exports(warehouse, exports)
    assert [a[-1] for a in audit(warehouse)] == ["refused"]

    write_export(exports, DAY, "crm__contacts", f"{CONTACTS_HEADER}\nC1,K1,U1,PHONE,2024-03-07T09:00:00Z,4\n")
    (result,) = load_exports(warehouse, exports)

    assert (result.status, result.rows_loaded) == ("loaded", 1)
    assert [a[-1] for a in audit(warehouse)] == ["loaded"]


# ----------------------------------------------------------------- idempotence and re-delivery


def _two_days(exports: Path) -> None:
    write_export(
        exports, date(2024, 3, 1), "survey__surveys", f"{SURVEYS_HEADER}\nS1,NPS,0,10,q\nS2,NPS,x,10,q\n"
    )
    write_export(exports, date(2024, 3, 2), "survey__surveys", f"{SURVEYS_HEADER}\nS3,CSAT,1,5,q\n")
    write_export(
        exports,
        date(2024, 3, 2),
        "crm__contacts",
        f"{CONTACTS_HEADER}\nC1,K1,U1,PHONE,2024-03-02T09:00:00Z,4\n",
    )


def test_reloading_the_same_files_changes_nothing(exports, warehouse):
    _two_days(exports)
    first = load_exports(warehouse, exports)
    before = table_snapshot(warehouse)

    second = load_exports(warehouse, exports)

    assert {r.status for r in first} == {"loaded"}
    assert {r.status for r in second} == {"unchanged"}
    strip = [
        (r.source_file, r.rows_delivered, r.rows_loaded, r.rows_quarantined, r.file_sha256) for r in first
    ]
    assert [
        (r.source_file, r.rows_delivered, r.rows_loaded, r.rows_quarantined, r.file_sha256) for r in second
    ] == strip
    assert table_snapshot(warehouse) == before


def test_batching_does_not_change_what_lands(exports, tmp_path, monkeypatch):
    _two_days(exports)
    write_export(
        exports, date(2024, 3, 3), "survey__surveys", f'{SURVEYS_HEADER}\nS5,NPS,0,10,"two\nlines"\n'
    )
    contents = "select * exclude (_load_id, _loaded_at) from raw.{}"  # ids and times differ by design

    def landed(warehouse: Path) -> list:
        return [
            sorted(query(warehouse, contents.format(t)), key=repr)
            for t in ("survey__surveys", "crm__contacts")
        ]

    batched = load_exports(tmp_path / "batched.duckdb", exports)
    monkeypatch.setattr(batching, "BATCH_BYTES", 1)  # every file parsed on its own
    one_by_one = load_exports(tmp_path / "one_by_one.duckdb", exports)

    assert [r.source_file for r in batched] == [r.source_file for r in one_by_one]
    assert landed(tmp_path / "batched.duckdb") == landed(tmp_path / "one_by_one.duckdb")
    assert len(landed(tmp_path / "batched.duckdb")[0]) == 3


def test_redelivered_day_with_different_content_replaces_it(exports, warehouse):
    _two_days(exports)
    load_exports(warehouse, exports)
    write_export(
        exports, date(2024, 3, 1), "survey__surveys", f"{SURVEYS_HEADER}\nS1,NPS,0,11,q\nS4,NPS,0,10,q\n"
    )

    results = load_exports(warehouse, exports, [date(2024, 3, 1)])

    assert [(r.source_file, r.status, r.rows_loaded, r.rows_quarantined) for r in results] == [
        ("2024-03-01/survey__surveys.csv", "replaced", 2, 0)
    ]
    surveys = query(
        warehouse, "select survey_id, scale_max, _export_date from raw.survey__surveys order by 1"
    )
    assert surveys == [
        ("S1", 11, date(2024, 3, 1)),
        ("S3", 5, date(2024, 3, 2)),
        ("S4", 10, date(2024, 3, 1)),
    ]
    assert query(warehouse, "select count(*) from raw.load_quarantine") == [(0,)]
    assert [(a[2], a[-1]) for a in audit(warehouse)] == [
        ("2024-03-01/survey__surveys.csv", "replaced"),
        ("2024-03-02/crm__contacts.csv", "loaded"),
        ("2024-03-02/survey__surveys.csv", "loaded"),
    ]


def test_a_failure_while_writing_leaves_the_previous_load_intact(exports, warehouse, monkeypatch):
    _two_days(exports)
    load_exports(warehouse, exports)
    before = table_snapshot(warehouse)
    write_export(exports, date(2024, 3, 1), "survey__surveys", f"{SURVEYS_HEADER}\nS9,NPS,0,10,q\n")
    real_write = batching._write_file

    def write_then_fail(*args, **kwargs):
        real_write(*args, **kwargs)  # deletes the old rows and inserts the new ones, uncommitted
        raise OSError("disk full")

    monkeypatch.setattr(batching, "_write_file", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        load_exports(warehouse, exports, [date(2024, 3, 1)])

    assert table_snapshot(warehouse) == before


def test_a_load_through_the_callers_connection_leaves_its_checkpoint_threshold_as_it_was(
    exports, warehouse, monkeypatch
):
    """The loader raises DuckDB's checkpoint_threshold while it writes (CHECKPOINT_THRESHOLD), a setting of
    the whole database: a caller's connection (Dagster's raw asset) gets its own value back, after a load and
    after a load that failed."""
    _two_days(exports)
    threshold = "select current_setting('checkpoint_threshold')"
    seen_while_writing = []
    real_write = batching._write_file

    def write_and_look(con, *args, **kwargs):
        seen_while_writing.append(con.execute(threshold).fetchone()[0])
        return real_write(con, *args, **kwargs)

    monkeypatch.setattr(batching, "_write_file", write_and_look)
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set checkpoint_threshold = '3MiB'")
        load_exports(con, exports)
        assert con.execute(threshold).fetchone() == ("3.0 MiB",)
        assert seen_while_writing and set(seen_while_writing) == {"256.0 MiB"}, seen_while_writing

        def fail(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(batching, "_write_file", fail)
        write_export(exports, date(2024, 3, 1), "survey__surveys", f"{SURVEYS_HEADER}\nS9,NPS,0,10,q\n")
        with pytest.raises(OSError, match="disk full"):
            load_exports(con, exports, [date(2024, 3, 1)])
        assert con.execute(threshold).fetchone() == ("3.0 MiB",)


# ----------------------------------------------------------------- interface, CLI, docs


def test_available_dates_and_empty_schema(exports, warehouse):
    for day in ["2024-03-02", "2024-02-28", "not-a-day"]:
        (exports / day).mkdir(parents=True)
    assert available_export_dates(exports) == [date(2024, 2, 28), date(2024, 3, 2)]
    assert available_export_dates(exports / "missing") == []

    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con)
        ensure_raw_schema(con)  # idempotent
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
    assert tables == {
        *load_contract().tables,
        "load_audit",
        "load_quarantine",
        "load_withdrawals",
        "load_as_of",
    }


def test_raw_schema_follows_a_grown_contract_and_refuses_a_changed_type(exports, warehouse):
    """A warehouse landed under an older contract: the column the contract gained is added (old rows keep
    NULL) and a file carrying it loads; a stored column of another type than the contract's is an error
    naming the table and column, and nothing is altered."""
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con)
        con.execute("alter table raw.survey__surveys drop column question")
        con.execute(
            "insert into raw.survey__surveys (survey_id, survey_type, scale_min, scale_max, _export_date) "
            "values ('S0', 'CSAT', 1, 5, date '2024-03-06')"
        )
        ensure_raw_schema(con)
        assert con.execute("select question from raw.survey__surveys").fetchall() == [(None,)]
    write_export(exports, DAY, "survey__surveys", f"{SURVEYS_HEADER}\nS1,NPS,0,10,How likely?\n")
    load_exports(warehouse, exports, [DAY])
    assert query(warehouse, "select survey_id, question from raw.survey__surveys order by 1") == [
        ("S0", None),
        ("S1", "How likely?"),
    ]

    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table raw.survey__surveys alter scale_max type varchar")
        with pytest.raises(RawSchemaError, match=r"raw\.survey__surveys\.scale_max is stored as VARCHAR"):
            ensure_raw_schema(con)
    with pytest.raises(RawSchemaError):
        load_exports(warehouse, exports, [DAY])


def test_cli_prints_each_file_and_exits_1_on_a_contract_break(exports, warehouse, capsys):
    write_export(exports, DAY, "survey__surveys", f"{SURVEYS_HEADER}\nS1,NPS,0,10,q\n")
    assert (
        loader.main(["--exports", str(exports), "--warehouse", str(warehouse), "--date", "2024-03-07"]) == 0
    )
    out = capsys.readouterr().out
    assert (
        "2024-03-07/survey__surveys.csv" in out
        and "loaded=1" in out
        and out.splitlines()[-1].startswith("total")
    )

    write_export(exports, DAY, "crm__contacts", "contact_id\nC1\n")
    assert loader.main(["--exports", str(exports), "--warehouse", str(warehouse)]) == 1
    captured = capsys.readouterr()
    assert "2024-03-07/crm__contacts.csv" in captured.err and "customer_id" in captured.err
    assert "unchanged" in captured.out


def test_result_type_is_frozen():
    result = FileLoadResult("t", DAY, "f", 0, 0, 0, "loaded", "x")
    with pytest.raises(AttributeError):
        result.status = "replaced"  # type: ignore[misc]


def test_docs_page_is_the_rendered_contract():
    assert DOCS_PATH.read_text(encoding="utf-8") == render_markdown(), "run: python -m raw.contract"


# ----------------------------------------------------------------- reconciliation on the generated company


def _count_records(path: Path) -> int:
    """Data records in a CSV file counted by Python's csv module, independently of the loader."""
    with open(path, newline="", encoding="utf-8") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


@pytest.mark.slow
def test_reconciliation_on_the_small_company(small_company, loaded_warehouse):
    exports = small_company.exports_dir
    files = sorted(p.relative_to(exports).as_posix() for p in exports.glob("*/*.csv"))
    rows = query(
        loaded_warehouse,
        "select source_file, rows_delivered, rows_loaded, rows_quarantined, status from raw.load_audit",
    )
    by_file = {r[0]: r[1:] for r in rows}

    assert sorted(by_file) == files
    for source_file, (delivered, loaded, quarantined, status) in by_file.items():
        assert status == "loaded", source_file
        assert delivered == loaded + quarantined, source_file
        assert delivered == _count_records(exports / source_file), source_file

    tables = load_contract().tables
    landed = sum(query(loaded_warehouse, f"select count(*) from raw.{t}")[0][0] for t in tables)
    (set_aside,) = query(loaded_warehouse, "select count(*) from raw.load_quarantine")[0]
    assert sum(r[2] for r in rows) == landed
    assert sum(r[3] for r in rows) == set_aside
    assert sum(r[1] for r in rows) == landed + set_aside
    per_file_quarantine = dict(
        query(loaded_warehouse, "select source_file, count(*) from raw.load_quarantine group by 1")
    )
    assert {f: q for f, (_, _, q, _) in by_file.items() if q} == per_file_quarantine


# ----------------------------------------------------------------- whole days per transaction, reconciliation


def test_a_failure_rolls_back_every_day_of_the_batch_and_keeps_earlier_batches(
    exports, warehouse, monkeypatch
):
    _two_days(exports)
    write_export(exports, date(2024, 3, 3), "survey__surveys", f"{SURVEYS_HEADER}\nS7,NPS,0,10,q\n")
    load_exports(warehouse, exports, [date(2024, 3, 1)])
    before = table_snapshot(warehouse)
    real_write = batching._write_file

    def write_and_fail_on_the_last_day(con, batch, staged):
        real_write(con, batch, staged)
        if any(p.export_date == date(2024, 3, 3) for p in batch):
            raise OSError("disk full")

    monkeypatch.setattr(batching, "_write_file", write_and_fail_on_the_last_day)
    with pytest.raises(OSError, match="disk full"):
        load_exports(warehouse, exports, [date(2024, 3, 2), date(2024, 3, 3)])

    # Both days were one batch: the failure on the 3rd undoes the 2nd too; the earlier load is untouched.
    assert table_snapshot(warehouse) == before


def test_batches_hold_whole_days_and_each_commits_on_its_own(exports, warehouse, monkeypatch):
    _two_days(exports)
    write_export(exports, date(2024, 3, 3), "survey__surveys", f"{SURVEYS_HEADER}\nS7,NPS,0,10,q\n")
    monkeypatch.setattr(batching, "BATCH_BYTES", 1)  # a batch per day
    real_write = batching._write_file
    batches = []

    def write_and_fail_on_the_last_day(con, batch, staged):
        batches.append(sorted({(p.export_date, p.source_file) for p in batch}))
        real_write(con, batch, staged)
        if any(p.export_date == date(2024, 3, 3) for p in batch):
            raise OSError("disk full")

    monkeypatch.setattr(batching, "_write_file", write_and_fail_on_the_last_day)
    with pytest.raises(OSError, match="disk full"):
        load_exports(warehouse, exports)

    assert [[f for _, f in b] for b in batches] == [
        ["2024-03-01/survey__surveys.csv"],
        ["2024-03-02/crm__contacts.csv", "2024-03-02/survey__surveys.csv"],
        ["2024-03-03/survey__surveys.csv"],
    ]
    assert [(a[2], a[3], a[-1]) for a in audit(warehouse)] == [
        ("2024-03-01/survey__surveys.csv", 2, "loaded"),
        ("2024-03-02/crm__contacts.csv", 1, "loaded"),
        ("2024-03-02/survey__surveys.csv", 1, "loaded"),
    ]
    assert query(warehouse, "select survey_id from raw.survey__surveys order by 1") == [("S1",), ("S3",)]


def test_reconciliation_counts_what_landed_and_refuses_to_commit_a_shortfall(exports, warehouse, monkeypatch):
    _two_days(exports)
    real_write = batching._write_file

    def write_then_lose_a_row(con, batch, staged):
        real_write(con, batch, staged)
        con.execute("delete from raw.survey__surveys where survey_id = 'S3'")

    monkeypatch.setattr(batching, "_write_file", write_then_lose_a_row)
    with pytest.raises(RuntimeError, match=r"2024-03-02/survey__surveys.csv: 1 rows delivered but 0 loaded"):
        load_exports(warehouse, exports)

    assert query(warehouse, "select count(*) from raw.load_audit") == [(0,)]
    assert query(warehouse, "select count(*) from raw.survey__surveys") == [(0,)]


# ----------------------------------------------------------------- simple-record split vs general parse

# Records of every shape: fully quoted, unquoted, mixed, empty quoted, commas and escaped quotes in quotes,
# values over two lines, stray quotes, space after a closing quote, wrong field counts, blank lines.
TRICKY_SURVEYS = [
    SURVEYS_HEADER,
    '"S1","NPS","0","10","plain quoted"',
    "S2,NPS,0,10,unquoted",
    '"S3",CSAT,"1",5,',
    '"S4","NPS","0","10",""',
    '"S5","NPS","0","10","a, comma"',
    '"S6","NPS","0","10","say ""hi"""',
    '"S7","NPS","0","10","two',
    'lines"',
    '"S8","NPS","0","10","q" ',
    'S9,NPS,0,10,mid"quote',
    'x"',
    '"S10","NPS","0","10"',
    '"S11","NPS","0","10","q","extra"',
    "",
    '"S12",,"0","10","q"',
    '"S13","NPS"," 7 ","10","q"',
    '"S14","NPS","1.5","10","q"',
    '"S15","NPS","0","10",","',
    '"S16","NPS","0","10","',
]


def _landed_without_ids(warehouse: Path) -> dict[str, list[tuple]]:
    """Every raw table, quarantine and audit row, without per-load ids and times (they differ by design)."""
    landed = {}
    for table in [*load_contract().tables, "load_audit", "load_quarantine"]:
        ids = "(load_id, loaded_at)" if table.startswith("load_") else "(_load_id, _loaded_at)"
        landed[table] = sorted(query(warehouse, f"select * exclude {ids} from raw.{table}"), key=repr)
    return landed


def test_simple_record_pattern_accepts_only_records_a_comma_split_cuts_exactly():
    con = duckdb.connect()
    cases = {
        '"a","b",c,,""': True,
        "a,b,c": True,
        "": True,
        '"a,b",c': False,  # comma inside quotes
        '"a""b",c': False,  # escaped quote
        'a"b,c': False,  # stray quote in an unquoted value
        '"a" ,c': False,  # space after the closing quote
        '"a': False,  # never closed
    }
    for record, simple in cases.items():
        (matched,) = con.execute("select regexp_full_match(?, ?)", [record, parse._SIMPLE_RECORD]).fetchone()
        assert matched is simple, record


def test_simple_split_and_general_parse_land_the_same(exports, tmp_path, monkeypatch):
    write_export(exports, DAY, "survey__surveys", "\n".join(TRICKY_SURVEYS) + "\n")
    write_export(
        exports,
        DAY,
        "crm__contacts",
        f'{CONTACTS_HEADER}\n"C1","K1","U1","PHONE","2024-03-07T09:00:00Z","4"\n'
        'C2,K2,U2,EMAIL,2024-03-07T09:00:00+02:00,\n"C3","K3","U3","PHONE","yesterday","4"\n',
    )

    split = load_exports(tmp_path / "split.duckdb", exports)
    monkeypatch.setattr(parse, "_SIMPLE_RECORD", "a^")  # can never match: every record parsed the general way
    general = load_exports(tmp_path / "general.duckdb", exports)

    assert [(r.source_file, r.rows_delivered, r.rows_loaded, r.rows_quarantined) for r in split] == [
        (r.source_file, r.rows_delivered, r.rows_loaded, r.rows_quarantined) for r in general
    ]
    assert _landed_without_ids(tmp_path / "split.duckdb") == _landed_without_ids(tmp_path / "general.duckdb")
    surveys = dict(query(tmp_path / "split.duckdb", "select survey_id, question from raw.survey__surveys"))
    assert surveys["S5"] == "a, comma" and surveys["S6"] == 'say "hi"' and surveys["S15"] == ","
    assert surveys["S4"] is None and surveys["S3"] is None and surveys["S7"] == "two\nlines"


@pytest.mark.slow
def test_simple_split_and_general_parse_land_the_same_small_company(
    small_company, loaded_warehouse, tmp_path, monkeypatch
):
    monkeypatch.setattr(parse, "_SIMPLE_RECORD", "a^")  # can never match: every record parsed the general way
    general = tmp_path / "general.duckdb"
    load_exports(general, small_company.exports_dir)

    assert _landed_without_ids(general) == _landed_without_ids(loaded_warehouse)


def test_the_loader_works_within_the_jobs_duckdb_memory_bound(tmp_path, monkeypatch):
    """The CLI's connection carries DUCKDB_MEMORY_LIMIT, as dbt's, GX's and the publisher's do."""
    from raw.load import _connect

    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "123MB")
    con, owned = _connect(tmp_path / "w.duckdb")
    reference = duckdb.connect(config={"memory_limit": "123MB"})
    try:
        bound = "select current_setting('memory_limit')"
        assert owned and con.execute(bound).fetchone() == reference.execute(bound).fetchone()
        assert con.execute(bound).fetchone() != duckdb.connect().execute(bound).fetchone()
    finally:
        con.close()
        reference.close()
