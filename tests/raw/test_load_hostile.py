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
from raw.load import ContractError, load_exports

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
