"""Write-audit-publish swaps complete publications only; readers keep a consistent view."""

import os

import duckdb
import pytest

from orchestration import publication
from orchestration.publication import current_version, publish_marts


def _warehouse(path, rows: int):
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create or replace table marts.fct_things as select range as thing_id from range(?)", [rows])
    con.execute("create or replace table marts.dim_stuff as select 'a' as stuff_id")
    con.close()


def test_publish_copies_every_mart_to_duckdb_and_parquet(tmp_path):
    _warehouse(tmp_path / "wh.duckdb", 10)
    pub = publish_marts(tmp_path / "wh.duckdb", tmp_path / "serving")
    assert pub.row_counts == {"dim_stuff": 1, "fct_things": 10}
    con = duckdb.connect(str(tmp_path / "serving" / "marts.duckdb"), read_only=True)
    assert con.execute("select count(*) from marts.fct_things").fetchone() == (10,)
    con.close()
    parquet = tmp_path / "serving" / "parquet" / "fct_things.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchone() == (10,)
    assert current_version(tmp_path / "serving") == pub.version


def test_a_reader_holding_the_old_file_keeps_it_while_new_readers_see_the_new_one(tmp_path):
    _warehouse(tmp_path / "wh.duckdb", 10)
    serving = tmp_path / "serving"
    publish_marts(tmp_path / "wh.duckdb", serving)
    old_reader = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    _warehouse(tmp_path / "wh.duckdb", 20)
    second = publish_marts(tmp_path / "wh.duckdb", serving)
    assert old_reader.execute("select count(*) from marts.fct_things").fetchone() == (10,)
    old_reader.close()
    new_reader = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    assert new_reader.execute("select count(*) from marts.fct_things").fetchone() == (20,)
    new_reader.close()
    assert current_version(serving) == second.version


def test_a_failed_audit_leaves_the_previous_publication_untouched(tmp_path, monkeypatch):
    _warehouse(tmp_path / "wh.duckdb", 10)
    serving = tmp_path / "serving"
    first = publish_marts(tmp_path / "wh.duckdb", serving)
    before = (serving / "marts.duckdb").stat().st_ino

    def lying_copy(*args, **kwargs):
        counts = real_copy(*args, **kwargs)
        return {table: rows + 1 for table, rows in counts.items()}

    real_copy = publication._write_copy
    monkeypatch.setattr(publication, "_write_copy", lying_copy)
    _warehouse(tmp_path / "wh.duckdb", 20)
    with pytest.raises(publication.PublicationAuditError):
        publish_marts(tmp_path / "wh.duckdb", serving)
    assert (serving / "marts.duckdb").stat().st_ino == before
    assert current_version(serving) == first.version
    assert sorted(os.listdir(serving / "versions")) == [first.version]
    assert not [p for p in os.listdir(serving) if p.startswith("publishing-")]
