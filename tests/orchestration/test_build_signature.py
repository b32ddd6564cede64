"""A build's signature changes with anything a build reads, and the record of the last successful build is
there only while the warehouse is what that build left (orchestration/build_signature.py)."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.build_signature import (
    PENDING,
    RECORD,
    build_signature,
    finish_build,
    forget_other_builds,
    project_fingerprint,
    raw_table_stamps,
    recorded_signature,
    start_build,
    unchanged_since_last_success,
)

MANIFEST = {
    "sources": {
        "source.p.crm.customers": {
            "schema": "raw",
            "identifier": "crm__customers",
            "loaded_at_field": "_loaded_at",
        },
        "source.p.loader.load_audit": {
            "schema": "raw",
            "identifier": "load_audit",
            "loaded_at_field": "loaded_at",
        },
        "source.p.other.events": {
            "schema": "elsewhere",
            "identifier": "events",
            "loaded_at_field": "_loaded_at",
        },
    }
}


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.crm__customers (customer_id varchar, _loaded_at timestamp)")
        con.execute(
            "insert into raw.crm__customers values ('c1', '2026-01-01 06:00'), ('c2', '2026-01-01 06:00')"
        )
        con.execute("create table raw.load_audit (table_name varchar, status varchar, loaded_at timestamp)")
        con.execute("insert into raw.load_audit values ('crm__customers', 'loaded', '2026-01-01 06:00')")
        con.execute("create table raw.undeclared (x integer)")
    return path


def _signature(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return build_signature(con, MANIFEST, path)


def test_stamps_count_rows_and_take_the_latest_stamp_of_each_raw_table(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stamps = raw_table_stamps(con, MANIFEST)
    assert stamps == {
        "crm__customers": [2, "2026-01-01 06:00:00"],
        "load_audit": [1, "2026-01-01 06:00:00"],
        "undeclared": [0, None],  # no source declares it: its row count alone
    }


@pytest.mark.parametrize(
    "change",
    [
        # the loader lands rows: a later stamp
        "insert into raw.crm__customers values ('c3', '2026-01-02 06:00')",
        # rows withdrawn (a replaced file, an edit by hand): fewer rows, the same latest stamp
        "delete from raw.crm__customers where customer_id = 'c1'",
        # a file handled with no row landed (an empty or replaced file): only its audit row says so
        "insert into raw.load_audit values ('crm__customers', 'replaced', '2026-01-02 06:00')",
        # a table no source declares
        "insert into raw.undeclared values (1)",
        # a new raw table
        "create table raw.new_feed (x integer)",
    ],
)
def test_any_change_to_schema_raw_changes_the_signature(warehouse, change):
    before = _signature(warehouse)
    assert _signature(warehouse) == before
    with duckdb.connect(str(warehouse)) as con:
        con.execute(change)
    assert _signature(warehouse) != before


def test_the_same_rows_in_another_warehouse_file_are_another_signature(warehouse, tmp_path):
    copy = tmp_path / "copy" / "warehouse.duckdb"
    copy.parent.mkdir()
    copy.write_bytes(warehouse.read_bytes())
    assert _signature(copy)["raw_tables"] == _signature(warehouse)["raw_tables"]
    assert _signature(copy) != _signature(warehouse)


def test_the_project_fingerprint_follows_files_and_the_env_vars_they_read(tmp_path, monkeypatch):
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: p\nvars:\n  x: \"{{ env_var('SIGNATURE_TEST_VAR', 'a') }}\"\n"
    )
    (root / "models" / "m.sql").write_text("select 1 as one\n")
    monkeypatch.delenv("SIGNATURE_TEST_VAR", raising=False)
    monkeypatch.delenv("SIGNATURE_TEST_UNREAD", raising=False)
    first = project_fingerprint(root)
    assert project_fingerprint(root) == first

    monkeypatch.setenv("SIGNATURE_TEST_UNREAD", "1")  # no file reads it
    assert project_fingerprint(root) == first
    monkeypatch.setenv("SIGNATURE_TEST_VAR", "b")
    assert project_fingerprint(root) != first
    monkeypatch.delenv("SIGNATURE_TEST_VAR")

    (root / "models" / "m.sql").write_text("select 2 as one\n")
    edited = project_fingerprint(root)
    assert edited != first
    (root / "models" / "n.sql").write_text("select 1 as n\n")
    assert project_fingerprint(root) != edited


def test_the_record_is_there_only_after_a_build_finished_and_until_the_next_starts(tmp_path, warehouse):
    folder = tmp_path / "target"
    signature = _signature(warehouse)
    assert recorded_signature(folder, warehouse) is None
    assert not unchanged_since_last_success(folder, signature)

    start_build(folder, signature, "run-1")
    assert recorded_signature(folder, warehouse) is None, "a running build is not a successful one"
    assert not finish_build(folder, warehouse, "run-2"), "another run cannot finish run-1's build"
    assert finish_build(folder, warehouse, "run-1")
    assert unchanged_since_last_success(folder, signature)
    assert not list(folder.glob(f"{PENDING}*")) and len(list(folder.glob(f"{RECORD}*"))) == 1

    # A build that starts removes the record: killed or failed, it leaves none.
    start_build(folder, signature, "run-3")
    assert recorded_signature(folder, warehouse) is None
    assert finish_build(folder, warehouse, "run-3")

    # A build step of a run that did not start the build (later layers only) drops the record...
    forget_other_builds(folder, warehouse, "run-4")
    assert recorded_signature(folder, warehouse) is None
    # ... but not the pending signature of its own run.
    start_build(folder, signature, "run-5")
    forget_other_builds(folder, warehouse, "run-5")
    assert finish_build(folder, warehouse, "run-5") and unchanged_since_last_success(folder, signature)


def test_builds_of_another_warehouse_in_the_same_folder_leave_the_record_alone(tmp_path, warehouse):
    folder = tmp_path / "target"
    other = tmp_path / "other" / "warehouse.duckdb"
    other.parent.mkdir()
    other.write_bytes(warehouse.read_bytes())
    signature = _signature(warehouse)
    start_build(folder, signature, "run-1")
    assert finish_build(folder, warehouse, "run-1")

    start_build(folder, _signature(other), "run-2")
    forget_other_builds(folder, other, "run-3")
    assert not finish_build(folder, warehouse, "run-2")
    assert unchanged_since_last_success(folder, signature)
