"""Hostile and mistaken deliveries: each gets a clear refusal or quarantine naming the file, the rest of the
run still loads, and delivered = loaded + quarantined holds for every file.

Every test builds its hostile input in tmp_path, so what goes wrong is readable from the test itself.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

import raw.load as loader
from raw.load import ContractError, load_exports, parse

SURVEYS_HEADER = "survey_id,survey_type,scale_min,scale_max,question"
CONTACTS_HEADER = "contact_id,case_id,customer_id,channel,contact_at,wait_seconds"
DAY = date(2024, 6, 28)


def write(exports: Path, folder: str, table: str, data: str | bytes) -> Path:
    path = exports / folder / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def surveys(n: int, start: int = 1) -> str:
    return SURVEYS_HEADER + "\n" + "".join(f"S{i},NPS,0,10,q{i}\n" for i in range(start, start + n))


def assert_reconciled(warehouse: Path) -> None:
    """Per file, delivered = loaded + quarantined, and the counts are the rows that landed."""
    files = query(
        warehouse,
        "select source_file, load_id, table_name, rows_delivered, rows_loaded, rows_quarantined "
        "from raw.load_audit where status <> 'refused'",
    )
    for source_file, load_id, table, delivered, loaded, quarantined in files:
        assert delivered == loaded + quarantined, source_file
        assert query(warehouse, f"select count(*) from raw.{table} where _load_id = ?", [load_id]) == [
            (loaded,)
        ], source_file
        assert query(warehouse, "select count(*) from raw.load_quarantine where load_id = ?", [load_id]) == [
            (quarantined,)
        ], source_file


@pytest.fixture
def exports(tmp_path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return tmp_path / "wh" / "warehouse.duckdb"


# ----------------------------------------------------------------- day folders


def test_two_folders_that_read_as_one_day_load_it_once_and_refuse_the_misnamed_one(exports, warehouse):
    write(exports, "2024-06-28", "survey__surveys", surveys(52))
    write(exports, "2024-6-28", "survey__surveys", surveys(52, start=100))

    with pytest.raises(ContractError) as raised:
        load_exports(warehouse, exports)

    assert query(warehouse, "select count(*), count(distinct survey_id) from raw.survey__surveys") == [
        (52, 52)
    ]
    assert query(warehouse, "select min(survey_id), max(_source_file) from raw.survey__surveys") == [
        ("S1", "2024-06-28/survey__surveys.csv")
    ]
    [refusal] = raised.value.refused
    assert refusal.source_file == "2024-6-28/"
    assert "'2024-06-28'" in refusal.reason and "not YYYY-MM-DD" in refusal.reason
    assert "2024-6-28" in str(raised.value) and "2024-06-28" in str(raised.value)
    assert [r.source_file for r in raised.value.results] == ["2024-06-28/survey__surveys.csv"]
    assert_reconciled(warehouse)


@pytest.mark.parametrize("folder", ["2024-6-29", "20240629"])
def test_a_lone_misnamed_day_folder_is_refused_with_the_name_to_give_it(exports, warehouse, folder, capsys):
    write(exports, folder, "survey__surveys", surveys(3))

    assert loader.main(["--exports", str(exports), "--warehouse", str(warehouse)]) == 1

    err = capsys.readouterr().err
    assert f"{folder}/" in err and "rename it to '2024-06-29'" in err
    with pytest.raises(loader.ExportsNotFound, match=f"folder '{folder}' reads as that day"):
        load_exports(warehouse, exports, ["2024-06-29"])


def test_a_misnamed_folder_beside_other_days_is_reported_and_the_other_days_load(exports, warehouse):
    write(exports, "2024-06-28", "survey__surveys", surveys(2))
    write(exports, "20240630", "survey__surveys", surveys(2, start=10))
    write(exports, "notes", "survey__surveys", surveys(2, start=20))  # no date at all: not a day folder

    assert loader.available_export_dates(exports) == [DAY]
    with pytest.raises(ContractError) as raised:
        load_exports(warehouse, exports)

    assert [r.source_file for r in raised.value.refused] == ["20240630/"]
    assert query(warehouse, "select count(*) from raw.survey__surveys") == [(2,)]
    # Loading named days reports only the misnamed folders of those days.
    assert [r.status for r in load_exports(warehouse, exports, [DAY])] == ["unchanged"]


# ----------------------------------------------------------------- the exports folder itself


def test_a_missing_exports_folder_or_one_without_day_folders_exits_non_zero(tmp_path, warehouse, capsys):
    missing = tmp_path / "does" / "not" / "exist"
    assert loader.main(["--exports", str(missing), "--warehouse", str(warehouse)]) == 1
    assert f"exports folder {missing} does not exist" in capsys.readouterr().err

    empty = tmp_path / "empty"
    (empty / "notes").mkdir(parents=True)
    assert loader.main(["--exports", str(empty), "--warehouse", str(warehouse)]) == 1
    assert "no export day folder (named YYYY-MM-DD)" in capsys.readouterr().err
    with pytest.raises(loader.ExportsNotFound):
        load_exports(warehouse, empty)
    assert not warehouse.exists()  # nothing was opened or created


# ----------------------------------------------------------------- files the loader cannot read as CSV


def _refusals(warehouse: Path) -> dict[str, str]:
    return dict(query(warehouse, "select source_file, message from raw.load_audit where status = 'refused'"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            (CONTACTS_HEADER + "\rC1,K1,U1,PHONE,2024-06-28T09:00:00Z,4\r").encode(),
            "CR-only line endings",
        ),
        ((CONTACTS_HEADER + ',"' + "x" * 140_000 + '"\nC1\n').encode(), "longer than 65536 bytes"),
        (b"7" * 50_000_000, "longer than 65536 bytes and has no line ending"),
    ],
    ids=["cr-only", "header-field-over-128kib", "50mb-line-without-newline"],
)
def test_a_file_that_is_no_csv_is_refused_by_name_and_the_rest_of_the_run_loads(
    exports, warehouse, data, reason
):
    write(exports, "2024-06-28", "crm__contacts", data)
    write(exports, "2024-06-28", "survey__surveys", surveys(2))
    write(exports, "2024-06-29", "survey__surveys", surveys(3, start=10))

    with pytest.raises(ContractError) as raised:
        load_exports(warehouse, exports)

    [refusal] = raised.value.refused
    assert refusal.source_file == "2024-06-28/crm__contacts.csv" and reason in refusal.reason
    assert reason in _refusals(warehouse)["2024-06-28/crm__contacts.csv"]
    assert query(warehouse, "select count(*) from raw.survey__surveys") == [(5,)]
    assert query(warehouse, "select count(*) from raw.crm__contacts") == [(0,)]
    assert_reconciled(warehouse)


def test_a_50mb_record_after_a_good_header_is_quarantined_whole(exports, warehouse):
    huge = "C2,K1,U1,PHONE,2024-06-28T09:00:00Z," + "4" * 50_000_000
    write(
        exports,
        "2024-06-28",
        "crm__contacts",
        f"{CONTACTS_HEADER}\nC1,K1,U1,PHONE,2024-06-28T09:00:00Z,4\n{huge}\n",
    )

    (result,) = load_exports(warehouse, exports)

    assert (result.rows_delivered, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    assert query(
        warehouse, "select length(raw_line), reason like '%wait_seconds%' from raw.load_quarantine"
    ) == [(len(huge), True)]
    assert_reconciled(warehouse)


def test_a_file_the_database_cannot_parse_is_refused_alone(exports, warehouse, monkeypatch):
    """A failure while parsing one file of a batch (here: injected for one file) refuses that file only."""
    write(exports, "2024-06-28", "survey__surveys", surveys(2))
    write(exports, "2024-06-29", "survey__surveys", surveys(3, start=10))
    real_stage = parse.stage_checked

    def fail_on_one_file(con, staged, table, header):
        (hit,) = con.execute("select count(*) from _records where filename like '%2024-06-29%'").fetchone()
        if hit:
            raise duckdb.InvalidInputException("cannot parse")
        real_stage(con, staged, table, header)

    monkeypatch.setattr(parse, "stage_checked", fail_on_one_file)
    with pytest.raises(ContractError) as raised:
        load_exports(warehouse, exports)

    assert [(r.source_file, "could not be parsed" in r.reason) for r in raised.value.refused] == [
        ("2024-06-29/survey__surveys.csv", True)
    ]
    assert query(warehouse, "select count(*) from raw.survey__surveys") == [(2,)]
    assert list(_refusals(warehouse)) == ["2024-06-29/survey__surveys.csv"]
    assert_reconciled(warehouse)


# ----------------------------------------------------------------- symbolic links and echoed content

SECRET = "root:x:0:0:root:/root:/bin/bash"


def test_links_out_of_the_exports_folder_are_refused_unread(tmp_path, exports, warehouse, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET + "\ndaemon:x:1:1::/:/bin/false\n")
    (outside / "2024-06-30").mkdir()
    (outside / "2024-06-30" / "survey__surveys.csv").write_text(surveys(1))
    day = exports / "2024-06-28"
    day.mkdir(parents=True)
    (day / "crm__contacts.csv").symlink_to(outside / "passwd")
    (day / "crm__cases.csv").symlink_to(outside / "missing.csv")  # dangling
    (exports / "2024-06-30").symlink_to(outside / "2024-06-30", target_is_directory=True)
    write(exports, "2024-06-29", "survey__surveys", surveys(2))
    # A link inside the exports folder is an ordinary delivery.
    (day / "survey__surveys.csv").symlink_to(exports / "2024-06-29" / "survey__surveys.csv")

    assert loader.main(["--exports", str(exports), "--warehouse", str(warehouse)]) == 1

    out = capsys.readouterr()
    refusals = _refusals(warehouse)
    assert set(refusals) == {"2024-06-28/crm__contacts.csv", "2024-06-28/crm__cases.csv"}
    assert "outside the exports folder" in refusals["2024-06-28/crm__contacts.csv"]
    assert "2024-06-30/" in out.err and "outside the exports folder" in out.err
    assert query(warehouse, "select count(*) from raw.survey__surveys") == [(4,)]
    everything = out.out + out.err + repr(query(warehouse, "select * from raw.load_audit"))
    assert "root:" not in everything and "/bin/" not in everything


def test_a_refusal_quotes_header_names_but_never_other_content(exports, warehouse):
    write(exports, "2024-06-28", "crm__contacts", SECRET + "\ndaemon:x:1:1::/:/bin/false\n")
    write(exports, "2024-06-28", "crm__cases", "case_id,,opened_at\n")
    write(exports, "2024-06-28", "survey__surveys", SURVEYS_HEADER + ",<script>mood\nS1,NPS,0,10,q,ok\n")

    with pytest.raises(ContractError) as raised:
        load_exports(warehouse, exports)

    reasons = {r.source_file: r.reason for r in raised.value.refused}
    assert "not shown" in reasons["2024-06-28/crm__contacts.csv"]
    assert "position 2" in reasons["2024-06-28/crm__cases.csv"]
    assert "not shaped like a column name" in reasons["2024-06-28/survey__surveys.csv"]
    assert "root" not in str(raised.value) and "root" not in repr(_refusals(warehouse))


# ----------------------------------------------------------------- quoting, line endings, cut files


def test_one_stray_quote_sets_aside_its_own_line_only(exports, warehouse):
    lines = [
        SURVEYS_HEADER,
        "S1,NPS,0,10,q1",
        'S2,NPS,0,10,an "odd quote',  # 3: the only broken line
        "S3,NPS,0,10,q3",
        'S4,NPS,0,10,"a value over',  # 5-6: a real multi-line value after the stray quote
        'two lines"',
        "S5,NPS,0,10,q5",
        "S6,NPS,0,10,q6",
    ]
    write(exports, "2024-06-28", "survey__surveys", "\n".join(lines) + "\n")

    (result,) = load_exports(warehouse, exports)

    assert (result.rows_delivered, result.rows_loaded, result.rows_quarantined) == (6, 5, 1)
    assert query(warehouse, "select line_number, raw_line, reason from raw.load_quarantine") == [
        (3, lines[2], "malformed quoting: a quote inside an unquoted value or never closed")
    ]
    assert query(warehouse, "select survey_id, question from raw.survey__surveys order by _line_number") == [
        ("S1", "q1"),
        ("S3", "q3"),
        ("S4", "a value over\ntwo lines"),
        ("S5", "q5"),
        ("S6", "q6"),
    ]
    assert_reconciled(warehouse)


def test_a_quote_never_closed_in_the_first_record_loses_no_good_line(exports, warehouse):
    body = ['"S0,NPS,0,10,q0'] + [f"S{i},NPS,0,10,q{i}" for i in range(1, 6)]
    write(exports, "2024-06-28", "survey__surveys", SURVEYS_HEADER + "\n" + "\n".join(body) + "\n")

    (result,) = load_exports(warehouse, exports)

    assert (result.rows_delivered, result.rows_loaded, result.rows_quarantined) == (6, 5, 1)
    assert query(warehouse, "select line_number from raw.load_quarantine") == [(2,)]


def test_carriage_returns_inside_quoted_values_are_kept(exports, warehouse):
    data = (
        SURVEYS_HEADER + "\n"
        'S1,NPS,0,10,"one\r\ntwo"\n'  # CRLF inside a value of an LF file
        'S2,NPS,0,10,"a\rb"\n'  # a lone CR
        'S3,NPS,0,10,"ends with CR\r"\n'
    )
    write(exports, "2024-06-28", "survey__surveys", data)

    load_exports(warehouse, exports)

    assert query(warehouse, "select question from raw.survey__surveys order by survey_id") == [
        ("one\r\ntwo",),
        ("a\rb",),
        ("ends with CR\r",),
    ]


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_file_cut_short_sets_its_last_line_aside(exports, warehouse, ending):
    good = "C1,K1,U1,PHONE,2024-06-28T09:00:00Z,1500"
    cut = "C2,K1,U1,PHONE,2024-06-28T09:00:00Z,15"  # was 1500: complete in columns, wrong in value
    write(exports, "2024-06-28", "crm__contacts", ending.join([CONTACTS_HEADER, good, cut]))
    write(
        exports, "2024-06-29", "crm__contacts", ending.join([CONTACTS_HEADER, good.replace("C1", "C3"), ""])
    )

    results = load_exports(warehouse, exports)

    assert [(r.rows_delivered, r.rows_loaded, r.rows_quarantined) for r in results] == [(2, 1, 1), (1, 1, 0)]
    [(line, raw_line, reason)] = query(
        warehouse, "select line_number, raw_line, reason from raw.load_quarantine"
    )
    assert (line, raw_line) == (3, cut) and "no line ending" in reason and "cut short" in reason
    assert query(warehouse, "select contact_id, wait_seconds from raw.crm__contacts order by 1") == [
        ("C1", 1500),
        ("C3", 1500),
    ]
    assert_reconciled(warehouse)
