"""Skip a daily build when nothing it reads changed since the last successful build.

A dbt build's result depends on the rows it reads and on the project that reads them. A build's signature
names both:
- every table of schema raw, where the loader lands the exports, its audit of every file it handled and the
  as-of dates recorded for snapshots: the table's row count and its latest load stamp (the `loaded_at_field`
  its dbt source declares). The loader stamps every row it lands and records every file it handles in
  load_audit, a replaced or empty file included, so a load that changes anything changes a stamp or a count;
- the project: the bytes of every file dbt reads (settings.dbt.DBT_INPUTS), the values of the environment
  variables those files read through env_var(), dbt's version and the warehouse file.

A build records its signature beside dbt's artifacts (RECORD.<warehouse key>.json in its folder) once all
its work succeeded, and removes the record when it starts, so a failed or killed build leaves none. A daily
build whose signature equals the record has nothing to do: each incremental model would rebuild no
customer, each table model the same rows, each data test would read what it read. The daily builds
(Dagster's scheduled build_job and `python -m orchestration.daily_build`) skip dbt then; every other build
(a full or weekly build, a run of the main job, a materialisation from the UI) always runs it, and records
its signature when it succeeds.

A `dbt build` run by hand is not seen by the record: after one that failed, run the next build in full.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

import duckdb

from settings import REPO_ROOT
from settings.dbt import dbt_env_vars, dbt_input_files

RAW_SCHEMA = "raw"
RECORD = "last_successful_build"
PENDING = "build_in_progress"


def raw_table_stamps(con: duckdb.DuckDBPyConnection, manifest: dict) -> dict[str, list]:
    """schema raw's table -> [row count, latest load stamp] (stamp None when no dbt source of the table
    declares a loaded_at_field, or the table is empty)."""
    stamp_columns = {
        source["identifier"]: source.get("loaded_at_field")
        for source in manifest.get("sources", {}).values()
        if source.get("schema") == RAW_SCHEMA
    }
    columns = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ?", [RAW_SCHEMA]
    ).fetchall():
        columns.setdefault(table, set()).add(column)
    stamps = {}
    for table in sorted(columns):
        column = stamp_columns.get(table)
        latest = f'max("{column}")' if column in columns[table] else "null"
        rows, stamp = con.execute(f'select count(*), {latest} from {RAW_SCHEMA}."{table}"').fetchone()
        stamps[table] = [rows, None if stamp is None else str(stamp)]
    return stamps


def project_fingerprint(root: Path = REPO_ROOT) -> str:
    """SHA-256 of every file dbt reads in the project, the environment variables they read, dbt's version."""
    digest = hashlib.sha256(f"dbt-core {version('dbt-core')}\n".encode())
    for file in dbt_input_files(root):
        digest.update(f"{file.relative_to(root)}\n".encode() + hashlib.sha256(file.read_bytes()).digest())
    for name, value in dbt_env_vars(root).items():
        digest.update(f"{name}={value}\n".encode())
    return digest.hexdigest()


def build_signature(con: duckdb.DuckDBPyConnection, manifest: dict, warehouse: Path) -> dict:
    """What a build on `warehouse` (opened as `con`) reads: see the module's docstring."""
    return {
        "warehouse": str(Path(warehouse).resolve()),
        "project": project_fingerprint(),
        "raw_tables": raw_table_stamps(con, manifest),
    }


def _files(folder: Path, warehouse: Path) -> tuple[Path, Path]:
    """The record and the pending signature of builds of `warehouse` in `folder`: one pair per warehouse file,
    so builds of other warehouses sharing the folder (tests, a second deployment) never touch them."""
    key = hashlib.sha256(str(Path(warehouse).resolve()).encode()).hexdigest()[:12]
    return folder / f"{RECORD}.{key}.json", folder / f"{PENDING}.{key}.json"


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def recorded_signature(folder: Path, warehouse: Path) -> dict | None:
    """The signature of the last successful build of `warehouse` recorded in `folder`, if any."""
    return _read(_files(folder, warehouse)[0])


def unchanged_since_last_success(folder: Path, signature: dict) -> bool:
    return recorded_signature(folder, Path(signature["warehouse"])) == signature


def start_build(folder: Path, signature: dict, run_id: str = "") -> None:
    """A build starts: the record goes (the warehouse is no longer what it describes) and the build's own
    signature waits until finish_build."""
    record, pending = _files(folder, Path(signature["warehouse"]))
    folder.mkdir(parents=True, exist_ok=True)
    record.unlink(missing_ok=True)
    pending.write_text(json.dumps({"run_id": run_id, "signature": signature}))


def forget_other_builds(folder: Path, warehouse: Path, run_id: str) -> None:
    """A build step of run `run_id` that did not start the build (a materialisation of later layers only):
    unless its run started one, the record goes, as the warehouse may no longer be what it describes."""
    record, pending = _files(folder, warehouse)
    if (_read(pending) or {}).get("run_id") != run_id:
        record.unlink(missing_ok=True)
        pending.unlink(missing_ok=True)


def finish_build(folder: Path, warehouse: Path, run_id: str = "") -> bool:
    """The build `run_id` of `warehouse` succeeded: its signature becomes the record. False when the pending
    signature is another build's (a later build started meanwhile) or there is none."""
    record, pending = _files(folder, warehouse)
    started = _read(pending)
    if started is None or started.get("run_id") != run_id:
        return False
    record.write_text(json.dumps(started["signature"], indent=1))
    pending.unlink()
    return True
