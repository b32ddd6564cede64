"""Write-audit-publish swaps complete publications only; readers keep a consistent view."""

import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration import publication
from orchestration.publication import (
    PUBLICATIONS_DIR,
    current_version,
    publish_marts,
    publish_personal_data,
    resolve_publication,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _warehouse(path, rows: int, *, personal: bool = False, as_of: date | None = None):
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create or replace table marts.fct_things as select range as thing_id from range(?)", [rows])
    con.execute("create or replace table marts.dim_stuff as select 'a' as stuff_id")
    con.execute("comment on table marts.fct_things is 'Grain: one row per thing.'")
    con.execute("comment on column marts.fct_things.thing_id is 'The thing''s id.'")
    if personal:
        con.execute("create schema if not exists restricted")
        con.execute(
            "create or replace table restricted.dim_customer_contacts as "
            "select 'c1' as customer_id, 'ann@example.com' as email, 'Ann Example' as full_name"
        )
    if as_of:
        con.execute("create schema if not exists intermediate")
        con.execute(
            "create or replace table intermediate.int_warehouse_as_of as select ?::date as as_of_date, "
            "?::timestamp + interval 1 day as as_of_at, ?::timestamp as loaded_through_at",
            [as_of, as_of, as_of],
        )
    con.close()


def _read_whole_publication(serving: Path) -> tuple[str, int]:
    """What the README tells a reader to do: resolve `current` once, read the DuckDB file and every Parquet
    file through that folder. Returns the publication id and fct_things' rows; raises on any mix."""
    folder = resolve_publication(serving)
    con = duckdb.connect(str(folder / "marts.duckdb"), read_only=True)
    try:
        (pub_id,) = con.execute("select publication_id from marts.publication_info").fetchone()
        rows = con.execute("select count(*) from marts.fct_things").fetchone()[0]
    finally:
        con.close()
    reader = duckdb.connect()
    try:
        parquet = str(folder / "parquet" / "*.parquet")
        ids = reader.execute(
            f"select file_name, value::varchar from parquet_kv_metadata('{parquet}') "
            "where key = 'publication_id'"
        ).fetchall()
        parquet_rows = reader.execute(
            f"select count(*) from '{folder / 'parquet' / 'fct_things.parquet'}'"
        ).fetchone()[0]
    finally:
        reader.close()
    assert len(ids) == 3, ids
    assert {value for _, value in ids} == {pub_id}, f"mixed publications: {pub_id} vs {ids}"
    assert parquet_rows == rows, f"{pub_id}: duckdb {rows} rows, parquet {parquet_rows}"
    return pub_id, rows


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
    assert _read_whole_publication(tmp_path / "serving") == (pub.version, 10)


def test_a_reader_holding_the_old_file_keeps_it_while_new_readers_see_the_new_one(tmp_path):
    _warehouse(tmp_path / "wh.duckdb", 10)
    serving = tmp_path / "serving"
    publish_marts(tmp_path / "wh.duckdb", serving, grace=0)
    old_reader = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    _warehouse(tmp_path / "wh.duckdb", 20)
    publish_marts(tmp_path / "wh.duckdb", serving, grace=0)
    # grace=0: the first publication's folder is gone by now, yet the open file keeps being read.
    second = publish_marts(tmp_path / "wh.duckdb", serving, grace=0)
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
    assert sorted(os.listdir(serving / PUBLICATIONS_DIR)) == [first.version]


# --- one publication is one unit for every reader ---------------------------------------------------------

READER_PROCESS = textwrap.dedent("""
    import json, sys, pathlib
    sys.path.insert(0, sys.argv[3])
    from test_publication import _read_whole_publication
    serving, stop = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    seen, errors = [], []
    while not stop.exists():
        try:
            seen.append(_read_whole_publication(serving))
        except Exception as exc:
            errors.append(repr(exc))
    print(json.dumps({"seen": seen, "errors": errors}))
""")


def test_readers_during_rapid_publishes_see_one_whole_publication_every_time(tmp_path):
    warehouse, serving = tmp_path / "wh.duckdb", tmp_path / "serving"
    _warehouse(warehouse, 1000)
    rows_of = {publish_marts(warehouse, serving).version: 1000}
    stop_file = tmp_path / "stop"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", READER_PROCESS, str(serving), str(stop_file), str(Path(__file__).parent)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
        for _ in range(2)
    ]
    stop = threading.Event()
    seen, errors = [], []

    def read_in_thread():
        while not stop.is_set():
            try:
                seen.append(_read_whole_publication(serving))
                # The stable paths too: marts.duckdb is always a complete publication.
                con = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
                con.execute("select count(*) from marts.fct_things, marts.publication_info").fetchone()
                con.close()
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=read_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for round_ in range(1, 16):
            _warehouse(warehouse, 1000 + round_)
            # A short grace so that garbage collection runs while readers read.
            rows_of[publish_marts(warehouse, serving, grace=3).version] = 1000 + round_
    finally:
        stop.set()
        stop_file.touch()
        for thread in threads:
            thread.join()
        outputs = [process.communicate(timeout=120)[0] for process in processes]
    import json

    for output in outputs:
        result = json.loads(output)
        seen += [tuple(s) for s in result["seen"]]
        errors += result["errors"]
    assert not errors, errors[:3]
    assert len(seen) > 15
    # Every read saw a publication whole: its id and the rows published under that id.
    assert all(rows_of[pub_id] == rows for pub_id, rows in seen)
    assert len({pub_id for pub_id, _ in seen}) > 3
    # Superseded publications beyond the grace period were removed meanwhile.
    assert len(os.listdir(serving / PUBLICATIONS_DIR)) < len(rows_of)


KILLED_PUBLISH = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from orchestration import publication
    point = sys.argv[3]
    if point != "none":
        real = getattr(publication, point)
        def killed(*args, **kwargs):
            if point != "_swap_symlink" or Path(args[0]).name == "current":
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        setattr(publication, point, killed)
    publication.publish_marts(Path(sys.argv[1]), Path(sys.argv[2]), grace=0)
""")

# Every step of a publish, in order: kill -9 at its start.
KILL_POINTS = [
    "_remove_leftovers",
    "_write_copy",
    "_audit",
    "_restrict_permissions",
    "_flush",
    "_flush_dir",
    "_swap_symlink",
    "_ensure_stable_links",
    "_collect_garbage",
]


def _assert_complete(serving: Path, expected_version: str):
    assert current_version(serving) == expected_version
    pub_id, _ = _read_whole_publication(serving)
    assert pub_id == expected_version
    con = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    assert con.execute("select publication_id from marts.publication_info").fetchone() == (expected_version,)
    con.close()


def _leftovers(serving: Path) -> list[str]:
    current = current_version(serving)
    names = [p.name for p in (serving / PUBLICATIONS_DIR).iterdir() if p.name > current]
    return names + [p.name for p in serving.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_publish_killed_at_any_step_leaves_a_complete_publication_and_the_next_cleans_up(tmp_path, point):
    warehouse, serving = tmp_path / "wh.duckdb", tmp_path / "serving"
    _warehouse(warehouse, 10)
    first = publish_marts(warehouse, serving)
    _warehouse(warehouse, 20)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_PUBLISH, str(warehouse), str(serving), point],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    # Killed before the pointer moved: the first publication; after: the second, whole.
    swapped = KILL_POINTS.index(point) > KILL_POINTS.index("_swap_symlink")
    if swapped:
        assert current_version(serving) != first.version
    _assert_complete(serving, current_version(serving) if swapped else first.version)
    if point in ("_audit", "_restrict_permissions", "_flush", "_flush_dir", "_swap_symlink"):
        assert _leftovers(serving), "the kill left nothing behind to clean"
    third = publish_marts(warehouse, serving, grace=0)
    _assert_complete(serving, third.version)
    assert _leftovers(serving) == []
    assert os.listdir(serving / PUBLICATIONS_DIR) == [third.version]


def test_a_publication_stays_for_the_grace_period_after_it_was_superseded_however_long_the_copy_took(
    tmp_path, monkeypatch
):
    warehouse, serving = tmp_path / "wh.duckdb", tmp_path / "serving"
    _warehouse(warehouse, 10)
    first = publish_marts(warehouse, serving, grace=1.5)
    real_copy = publication._write_copy

    def slow_copy(*args, **kwargs):
        time.sleep(2)
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(publication, "_write_copy", slow_copy)
    second = publish_marts(warehouse, serving, grace=1.5)
    # Superseded a moment ago: a reader that resolved it just before the swap can still read it.
    assert (serving / PUBLICATIONS_DIR / first.version / "marts.duckdb").exists()
    monkeypatch.setattr(publication, "_write_copy", real_copy)
    time.sleep(1.6)
    third = publish_marts(warehouse, serving, grace=1.5)
    assert sorted(os.listdir(serving / PUBLICATIONS_DIR)) == [second.version, third.version]


def test_a_publish_killed_while_writing_leaves_a_complete_publication(tmp_path):
    warehouse, serving = tmp_path / "wh.duckdb", tmp_path / "serving"
    _warehouse(warehouse, 3_000_000)
    first = publish_marts(warehouse, serving)
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISH, str(warehouse), str(serving), "none"],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    deadline = time.monotonic() + 60
    while not list((serving / PUBLICATIONS_DIR).glob("*.partial/marts.duckdb")):
        assert time.monotonic() < deadline and process.poll() is None, "publish never started writing"
        time.sleep(0.01)
    process.kill()
    process.wait()
    _assert_complete(serving, first.version)
    assert _leftovers(serving)
    second = publish_marts(warehouse, serving)
    _assert_complete(serving, second.version)
    assert _leftovers(serving) == []


def test_the_first_publish_migrates_the_legacy_layout_and_removes_its_leftovers(tmp_path):
    warehouse, serving = tmp_path / "wh.duckdb", tmp_path / "serving"
    _warehouse(warehouse, 10)
    # The layout older code wrote: a plain file, parquet -> versions/<id>, a killed publish's staging file.
    (serving / "versions" / "20240101T000000000000Z-abcdef").mkdir(parents=True)
    (serving / "versions" / "20240101T000000000000Z-abcdef" / "fct_things.parquet").write_bytes(b"old")
    (serving / "parquet").symlink_to(Path("versions") / "20240101T000000000000Z-abcdef")
    duckdb.connect(str(serving / "marts.duckdb")).close()
    (serving / "publishing-20240102T000000000000Z-fedcba.duckdb").write_bytes(b"half")
    assert current_version(serving) == "20240101T000000000000Z-abcdef"
    pub = publish_marts(warehouse, serving, grace=0)
    assert (serving / "marts.duckdb").is_symlink()
    _assert_complete(serving, pub.version)
    assert not (serving / "versions").exists()
    assert not list(serving.glob("publishing-*"))


# --- permissions and personal data ------------------------------------------------------------------------


def _modes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): stat.S_IMODE(path.lstat().st_mode)
        for path in [folder, *folder.rglob("*")]
        if not path.is_symlink()
    }


def test_published_files_are_not_world_readable(tmp_path):
    _warehouse(tmp_path / "wh.duckdb", 10)
    pub = publish_marts(tmp_path / "wh.duckdb", tmp_path / "serving", personal_data=False)
    modes = _modes(tmp_path / "serving" / PUBLICATIONS_DIR)
    assert modes and all(mode & 0o007 == 0 for mode in modes.values()), modes
    assert modes[f"{pub.version}/parquet/fct_things.parquet"] == 0o640
    assert modes[f"{pub.version}/marts.duckdb"] == 0o640
    assert modes[f"{pub.version}/parquet"] == 0o750
    assert modes["."] == 0o750


def test_personal_data_stays_out_unless_asked_for_and_then_in_an_owner_only_file(tmp_path, monkeypatch):
    warehouse, serving = tmp_path / "wh.duckdb", tmp_path / "serving"
    _warehouse(warehouse, 10, personal=True)
    monkeypatch.delenv("PUBLISH_PERSONAL_DATA", raising=False)
    default = publish_marts(warehouse, serving)
    files = [p for p in default.directory.rglob("*") if p.is_file()]
    assert not (default.directory / "restricted").exists()
    assert not (serving / "restricted").exists()
    assert not any(b"ann@example.com" in p.read_bytes() for p in files)
    con = duckdb.connect(str(serving / "marts.duckdb"), read_only=True)
    assert con.execute("select includes_personal_data from marts.publication_info").fetchone() == (False,)
    con.close()

    monkeypatch.setenv("PUBLISH_PERSONAL_DATA", "true")
    asked = publish_marts(warehouse, serving)
    assert asked.restricted_row_counts == {"dim_customer_contacts": 1}
    restricted = serving / "restricted"
    con = duckdb.connect(str(restricted / "personal_data.duckdb"), read_only=True)
    assert con.execute("select email from personal_data.dim_customer_contacts").fetchone() == (
        "ann@example.com",
    )
    assert con.execute("select publication_id from personal_data.publication_info").fetchone() == (
        asked.version,
    )
    con.close()
    modes = _modes(asked.directory / "restricted")
    assert modes["."] == 0o700 and modes["personal_data.duckdb"] == 0o600
    assert modes["parquet/dim_customer_contacts.parquet"] == 0o600
    # The marts file itself still holds no personal data.
    assert b"ann@example.com" not in (asked.directory / "marts.duckdb").read_bytes()


@pytest.mark.parametrize(
    ("value", "expected"), [("", False), ("false", False), ("0", False), ("TRUE", True), ("yes", True)]
)
def test_the_personal_data_setting_reads_true_and_false(monkeypatch, value, expected):
    monkeypatch.setenv("PUBLISH_PERSONAL_DATA", value)
    assert publish_personal_data() is expected


def test_a_mistyped_personal_data_setting_is_an_error_not_a_default(tmp_path, monkeypatch):
    _warehouse(tmp_path / "wh.duckdb", 10, personal=True)
    monkeypatch.setenv("PUBLISH_PERSONAL_DATA", "ture")
    with pytest.raises(ValueError, match="PUBLISH_PERSONAL_DATA"):
        publish_marts(tmp_path / "wh.duckdb", tmp_path / "serving")
    assert current_version(tmp_path / "serving") is None


def test_asking_for_personal_data_the_warehouse_lacks_publishes_nothing(tmp_path):
    _warehouse(tmp_path / "wh.duckdb", 10)
    first = publish_marts(tmp_path / "wh.duckdb", tmp_path / "serving")
    with pytest.raises(publication.PublicationAuditError, match="no table in schema restricted"):
        publish_marts(tmp_path / "wh.duckdb", tmp_path / "serving", personal_data=True)
    assert current_version(tmp_path / "serving") == first.version
    assert os.listdir(tmp_path / "serving" / PUBLICATIONS_DIR) == [first.version]


# --- publication_info and comments ------------------------------------------------------------------------


def test_every_publication_describes_itself_in_publication_info(tmp_path):
    _warehouse(tmp_path / "wh.duckdb", 10, as_of=date(2024, 6, 30))
    before = datetime.now(UTC).replace(tzinfo=None)
    pub = publish_marts(
        tmp_path / "wh.duckdb", tmp_path / "serving", dbt_invocation_id="inv-1", dagster_run_id="run-1"
    )
    con = duckdb.connect(str(tmp_path / "serving" / "marts.duckdb"), read_only=True)
    rows = con.execute("select * from marts.publication_info").fetchall()
    columns = [d[0] for d in con.description]
    con.close()
    assert len(rows) == 1
    info = dict(zip(columns, rows[0], strict=True))
    assert info["publication_id"] == pub.version
    assert before - timedelta(seconds=1) <= info["published_at"] <= datetime.now(UTC).replace(tzinfo=None)
    assert info["warehouse_as_of_date"] == date(2024, 6, 30)
    assert info["dbt_invocation_id"] == "inv-1" and info["dagster_run_id"] == "run-1"
    assert (
        pq.read_table(pub.parquet_dir / "publication_info.parquet").to_pylist()[0]["publication_id"]
        == pub.version
    )


def test_a_warehouse_without_an_as_of_model_publishes_a_null_as_of_date(tmp_path):
    _warehouse(tmp_path / "wh.duckdb", 10)
    publish_marts(tmp_path / "wh.duckdb", tmp_path / "serving")
    con = duckdb.connect(str(tmp_path / "serving" / "marts.duckdb"), read_only=True)
    assert con.execute("select warehouse_as_of_date from marts.publication_info").fetchone() == (None,)
    con.close()


def test_table_and_column_comments_reach_the_duckdb_file_and_the_parquet_metadata(tmp_path):
    _warehouse(tmp_path / "wh.duckdb", 10)
    pub = publish_marts(tmp_path / "wh.duckdb", tmp_path / "serving")
    con = duckdb.connect(str(tmp_path / "serving" / "marts.duckdb"), read_only=True)
    assert con.execute("select comment from duckdb_tables() where table_name = 'fct_things'").fetchone() == (
        "Grain: one row per thing.",
    )
    assert con.execute(
        "select comment from duckdb_columns() where table_name = 'fct_things' and column_name = 'thing_id'"
    ).fetchone() == ("The thing's id.",)
    assert con.execute(
        "select count(*) from duckdb_columns() where table_name = 'publication_info' and comment is null"
    ).fetchone() == (0,)
    con.close()
    metadata = pq.read_schema(pub.parquet_dir / "fct_things.parquet").metadata
    assert metadata[b"comment"] == b"Grain: one row per thing."
    assert metadata[b"comment:thing_id"] == b"The thing's id."
    assert metadata[b"publication_id"] == pub.version.encode()
