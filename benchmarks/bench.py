"""Benchmark the warehouse stage by stage, at several company sizes, on this machine.

    python -m benchmarks.bench --customers 10000 --days 730

For each size it generates a company, then runs each stage of the main job as its own process and records
wall time, peak memory (RSS summed over the process tree, sampled) and raw rows per second:
generate, load, dbt build, GX checks, publish. The dbt build is the full build the project runs (a first
build, the weekly build, any build without run config): `dbt build` with settings.build_flags("all"), i.e.
--exclude-resource-type unit_test and every data test on whole tables. The GX checks are `python -m
expectations` as a user runs it: the Dagster checks' gate, in one process (its default). It also measures
- the floor: the SQL dbt compiled, run as one script straight in DuckDB (no dbt, no orchestration). It says
  what dbt costs around our SQL, not whether our SQL does needless work;
- the reference: what any design must do whatever its models, written without them: DuckDB reading every
  landed raw row once (every column) and sorting the touchpoints once (every raw row that names a party and
  a time, numbered in time order per party, as a journey needs). build / reference says how far the
  project's SQL is from that least work;
- one more day: the last export day held back, loaded and built incrementally after the full build by the
  daily build as scheduled, `python -m orchestration.daily_build`: `dbt build` with
  settings.build_flags("latest_run"), the same flags plus --vars '{"data_tests_scope": "latest_run"}'
  (incremental models tested on the rows the run wrote), in a dbt target folder holding a parse made with
  those vars (untimed), as Dagster's daily builds keep one; then that daily build once more with no new rows
  (it finds nothing changed and skips dbt), and the same dbt build forced on the unchanged warehouse, the
  part of a daily build dbt pays whatever the day holds;
- where each build's time goes: from dbt's run_results.json and manifest, the full build's and the one more
  day build's seconds per kind of node (incremental or table models, data tests on the rows of the latest
  run or on whole tables, seeds, hooks) and their slowest nodes (`profiles` in results.json; the Markdown
  shows the largest size's);
- readers during a build: latency of a BI query on the published marts while the next build runs;
- the Dagster main job: `python -m orchestration.run`, the path a user runs, on the same export days in a
  warehouse, serving folder and Dagster instance of its own. Its time against the bare stages' sum is the
  orchestration's overhead.
`--core-only` runs only the main job's bare stages, for sizes where the rest would not fit in the time at
hand. `--drop-loaded-exports` deletes each export day's files once they are loaded (the held-back last day
stays; the deleting is not timed; the Dagster stage is skipped, it needs the files), for sizes whose exports,
warehouse and spill do not fit on the disk together.

Everything is written under --work-dir (a temporary folder by default): results.json and results.md there.
`--json` and `--markdown` write them elsewhere, e.g. into the repository; a Markdown file that holds the
TABLES_BEGIN and TABLES_END markers gets only the text between them replaced, the rest of the page stays.
The targets (TARGETS) are judged from the run's own figures. Timings are figures, not tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import psutil

from raw.contract import TableSpec, load_contract
from raw.load import available_export_dates
from settings import build_flags, scope_vars
from settings.dbt import dbt_command

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRACT_PATH = REPO_ROOT / "raw" / "contract.yml"
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "warehouse-bench"
# A Markdown page holding both lines gets only the text between them replaced by a run's tables.
TABLES_BEGIN = "<!-- tables written by python -m benchmarks.bench: do not edit by hand -->"
TABLES_END = "<!-- end of the tables written by python -m benchmarks.bench -->"
# Bare stages whose sum is the main job's end to end, and the one stage that runs the same job in Dagster.
CORE_STAGES = ("load", "dbt build", "gx checks", "publish")
DAGSTER_STAGE = "dagster main job"


@dataclass
class StageResult:
    stage: str
    seconds: float
    peak_rss_mb: float
    rows: int | None = None
    rows_per_second: float | None = None
    note: str = ""


class StageFailed(RuntimeError):
    """A stage exited with an error; `result` holds what was measured up to then (wall time, peak memory)."""

    def __init__(self, message: str, result: StageResult):
        super().__init__(message)
        self.result = result


@dataclass
class SizeResult:
    customers: int
    days: int
    raw_rows: int = 0
    export_mb: float = 0.0
    stages: list[StageResult] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    # Build stage -> build_profile() of its dbt run.
    profiles: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """One target: `figure` of the size `customers` (None: every size measured) at most `limit`;
    with `completes`, a run of that size that failed misses it rather than leaving it unmeasured."""

    text: str
    figure: str
    limit: float
    customers: int | None = None
    completes: bool = False


# The targets on a 2-core, 24 GB machine. Each is judged from the run's own figures, so the verdicts written
# with the tables always belong to them.
TARGETS = (
    Target(
        "1M customers end to end (load, build, GX, publish) <= 5 min", "end_to_end_seconds", 300, 1_000_000
    ),
    Target("1M customers end to end, peak memory <= 4 GB", "end_to_end_peak_rss_mb", 4096, 1_000_000),
    Target(
        "10M customers completes, peak memory <= 16 GB",
        "end_to_end_peak_rss_mb",
        16384,
        10_000_000,
        completes=True,
    ),
    Target("full build <= 1.5 x the floor at 1M customers", "build_to_floor_ratio", 1.5, 1_000_000),
    Target(
        "one more day <= 10% of the full build at 1M customers",
        "one_more_day_share_of_full_build",
        0.10,
        1_000_000,
    ),
    Target(
        "daily build with no new rows <= 5% of the full build at 1M customers",
        "daily_build_no_new_rows_share_of_full_build",
        0.05,
        1_000_000,
    ),
    Target("GX checks <= 20% of the total", "gx_share_of_total", 0.20),
    Target("readers never blocked or failed by a running build", "reader_errors", 0),
)


def _verdict(target: Target, customers: int | None, days: int | None, measured, text: str) -> dict:
    return {
        "target": target.text,
        "figure": target.figure,
        "customers": customers,
        "days": days,
        "limit": target.limit,
        "measured": measured,
        "verdict": text,
    }


def judge_targets(results: list[SizeResult]) -> list[dict]:
    """Each target against each size it applies to: the measured figure and the verdict (met, missed and by
    how much, or not measured when the run did not include that size or did not get that far). A size whose
    run failed is judged on the figures measured before the failing stage; a target that needs the run to
    complete misses."""
    verdicts = []
    for target in TARGETS:
        sizes = [r for r in results if target.customers in (None, r.customers)]
        if not sizes:
            verdicts.append(_verdict(target, target.customers, None, None, "not measured in this run"))
        for r in sizes:
            measured = r.figures.get(target.figure)
            if target.completes and "failed" in r.figures:
                text = "missed: " + r.figures["failed"]
            elif measured is None:
                text = "not measured: " + r.figures.get("failed", f"no {target.figure} in this run")
            elif measured <= target.limit:
                text = "met"
            else:
                over = f"{measured / target.limit:.1f}x the limit" if target.limit else f"{measured} > 0"
                text = f"missed by {round(measured - target.limit, 3)} ({over})"
            verdicts.append(_verdict(target, r.customers, r.days, measured, text))
    return verdicts


def without_machine_paths(value, work: Path, repo: Path = REPO_ROOT, home: Path | None = None):
    """`value` (a string, or lists and dicts of them) with this machine's folders replaced by placeholders:
    the work folder by `<work>`, the repository by `<repo>`, the home folder by `~`, the longest first (the
    work folder may lie in the repository or the home folder). What a run records says what failed, not
    where this machine keeps its files."""
    home = Path.home() if home is None else home
    folders = {}
    for folder, placeholder in ((home, "~"), (repo, "<repo>"), (work, "<work>")):
        for spelling in {str(folder), str(folder.resolve())}:
            if spelling.strip("/"):  # never the file system's root
                folders[spelling.rstrip("/")] = placeholder
    if isinstance(value, str):
        for spelling in sorted(folders, key=len, reverse=True):
            value = re.sub(re.escape(spelling) + r"(?![\w.-])", folders[spelling], value)
        return value
    if isinstance(value, list):
        return [without_machine_paths(v, work, repo, home) for v in value]
    if isinstance(value, dict):
        return {k: without_machine_paths(v, work, repo, home) for k, v in value.items()}
    return value


def _bin(name: str) -> str:
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def run_stage(
    stage: str, cmd: list[str], env: dict, rows: int | None = None, note: str = "", allowed_exit: int = 0
) -> StageResult:
    """Run `cmd` as a child process; sample the RSS of its whole process tree until it exits.

    A non-zero exit other than `allowed_exit` raises StageFailed with the output's tail and the stage's
    figures so far; `allowed_exit` is recorded in the note (the GX stage exits 1 when a blocking expectation
    failed: a finding, not a broken benchmark).
    """
    started = time.perf_counter()
    proc = psutil.Popen(
        cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout), daemon=True)
    reader.start()
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    reader.join()
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, allowed_exit):
        tail = "".join(output[-40:])
        failed = StageResult(
            stage, round(seconds, 2), round(peak / 2**20, 1), note=f"failed: exit {proc.returncode}"
        )
        raise StageFailed(f"stage {stage} failed ({proc.returncode}): {' '.join(cmd)}\n{tail}", failed)
    if proc.returncode:
        note = (note + f" exit {proc.returncode}: " + "".join(output[-3:]).strip()).strip()
    rps = rows / seconds if rows and seconds > 0 else None
    return StageResult(stage, round(seconds, 2), round(peak / 2**20, 1), rows, rps and round(rps), note)


def dbt_cmd(args: list[str], work: Path) -> list[str]:
    return dbt_command(args, target_path=work / "target", log_path=work / "logs")


def daily_build_cmd(py: str, work: Path, data_tests_scope: str | None = None) -> list[str]:
    """`python -m orchestration.daily_build` in `work`'s dbt folders: the daily build as scheduled."""
    cmd = [py, "-m", "orchestration.daily_build", "--target-path", str(work / "target"), "--log-path"]
    cmd.append(str(work / "logs"))
    return cmd + (["--data-tests-scope", data_tests_scope] if data_tests_scope else [])


def raw_row_count(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select coalesce(sum(rows_delivered), 0) from raw.load_audit").fetchone()[0]
    finally:
        con.close()


# The `where` of a data test that reads only the rows of the latest run when the build's scope says so
# (macros/get_where_subquery.sql).
LATEST_RUN_PLACEHOLDER = "__rows_of_latest_run__"
SLOWEST_NODES = 8


def node_kind(node: dict, nodes: dict, data_tests_scope: str) -> str:
    """What a node of the manifest is, as the profile groups it."""
    kind = node.get("resource_type", "")
    if kind == "model":
        return f"{node['config'].get('materialized')} model"
    if kind == "operation":
        return "hook"
    if kind != "test":
        return kind
    tested = [nodes[d] for d in node["depends_on"]["nodes"] if d in nodes]
    if tested and tested[0]["resource_type"] == "seed":
        return "data test of a seed"
    scoped = LATEST_RUN_PLACEHOLDER in (node["config"].get("where") or "")
    if scoped and data_tests_scope != "all":
        return "data test, rows of the latest run"
    return "data test, whole table"


def build_profile(target: Path, data_tests_scope: str, slowest: int = SLOWEST_NODES) -> dict:
    """Where one dbt build's time went, from `target`'s run_results.json and manifest.json: seconds and nodes
    per kind, and the `slowest` nodes."""
    results = json.loads((target / "run_results.json").read_text())
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    by_kind: dict[str, list] = {}
    timed = []
    for run in results["results"]:
        node = nodes.get(run["unique_id"])
        if node is None:  # an exposure: listed in run_results, no work
            continue
        kind = node_kind(node, nodes, data_tests_scope)
        entry = by_kind.setdefault(kind, [0, 0.0])
        entry[0] += 1
        entry[1] += run["execution_time"]
        timed.append((run["execution_time"], node["name"], kind))
    timed.sort(key=lambda t: -t[0])
    return {
        "elapsed_seconds": round(results["elapsed_time"], 2),
        "by_kind": {k: {"nodes": n, "seconds": round(sec, 2)} for k, (n, sec) in by_kind.items()},
        "slowest": [
            {"node": name, "kind": kind, "seconds": round(sec, 2)} for sec, name, kind in timed[:slowest]
        ],
        "seconds_by_node": {name: round(sec, 3) for sec, name, _ in timed},
    }


def floor_script(manifest_path: Path) -> str:
    """dbt's work, minus dbt: every model's compiled SQL as a create statement in dependency order, then every
    data test's compiled query (its failing rows counted into a temp table, as dbt counts them), because the
    build being compared runs those tests too."""
    manifest = json.loads(manifest_path.read_text())
    nodes = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] in ("model", "seed")}
    tests = [
        v
        for _, v in sorted(manifest["nodes"].items())
        if v["resource_type"] == "test" and v.get("compiled_code")
    ]
    order: list[str] = []
    seen: set[str] = set()

    def visit(node_id: str) -> None:
        if node_id in seen or node_id not in nodes:
            return
        seen.add(node_id)
        for parent in nodes[node_id].get("depends_on", {}).get("nodes", []):
            visit(parent)
        order.append(node_id)

    for node_id in sorted(nodes):
        visit(node_id)
    models = [nodes[n] for n in order if nodes[n]["resource_type"] == "model"]  # seeds stay as built
    schemas = sorted({m["schema"] for m in models})
    statements = [f'drop schema if exists "{s}" cascade; create schema "{s}";' for s in schemas]
    for node in models:
        kind = "view" if node["config"]["materialized"] in ("view", "ephemeral") else "table"
        relation = f'"{node["schema"]}"."{node["alias"]}"'
        statements.append(f"create {kind} {relation} as {node['compiled_code']};")
    for test in tests:
        query = test["compiled_code"]
        statements.append(f"create or replace temp table _floor_test as select count(*) from ({query}) as t;")
    return "\n".join(statements)


# A touchpoint's party, by column name in order of preference: who the row is about, as the source knows it
# (the CRM customer, else the billing account, else the e-mail address the survey tool uses).
PARTY_COLUMNS = ("customer_id", "crm_customer_id", "account_number", "email", "billing_email")


def touchpoint_columns(table: TableSpec) -> tuple[str, str] | None:
    """(party, time) of a raw table's rows as touchpoints, from the contract alone: the first party column
    (PARTY_COLUMNS) and the first timestamp (else date) column; None when the table has no party or no time
    (campaigns, survey definitions, invoice lines: they describe other rows)."""
    names = table.column_names
    party = next((c for c in PARTY_COLUMNS if c in names), None)
    kinds = ("TIMESTAMP", "DATE")
    time = next(
        (c.name for kind in kinds for c in table.columns if c.type.startswith(kind)),
        None,
    )
    return (party, time) if party and time else None


def reference_script(landed_tables: set[str]) -> tuple[str, int]:
    """The least work any design must do on the landed raw tables (schema `raw` of the attached warehouse
    `wh`), written from the contract alone, none of our models: every row of every table read once with
    every column (hashed, so no column can be skipped), and ONE sort of all touchpoints (party, time, table,
    row hash), numbering each party's in time order, written to a table as a journey is. Tables whose rows
    are no touchpoints are read into one aggregate row each. Returns the script and the number of tables
    whose rows are touchpoints."""
    contract = load_contract(CONTRACT_PATH)
    statements, parts = [], []
    for name in sorted(contract.tables):
        if name not in landed_tables:
            continue
        columns = touchpoint_columns(contract.tables[name])
        relation = f'wh.raw."{name}"'
        if columns is None:
            statements.append(
                f'create table "read_{name}" as '
                f"select count(*) as n, bit_xor(hash(*columns(*))) as h from {relation};"
            )
            continue
        party, time = columns
        parts.append(
            f'select "{party}"::varchar as party, "{time}"::timestamptz as event_at, '
            f"'{name}' as source, hash(*columns(*)) as row_hash from {relation}"
        )
    union = "\n    union all ".join(parts) or "select null::varchar, null::timestamptz, null, null::ubigint"
    statements.append(
        "create table reference_touchpoints as select party, event_at, source, row_hash, "
        "row_number() over (partition by party order by event_at, source, row_hash) as sequence_number "
        f"from (\n    {union}\n) as touchpoints;"
    )
    return "\n".join(statements), len(parts)


def reader_probe(
    serving_file: Path, stop: threading.Event, latencies: list[float], errors: list[str]
) -> None:
    """What a BI tool does: open the published file read-only and query a mart, again and again."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            con = duckdb.connect(str(serving_file), read_only=True)
            con.execute("select status, count(*) from marts.dim_customers group by status").fetchall()
            con.close()
            latencies.append(time.perf_counter() - started)
        except Exception as exc:  # every failure is a finding, recorded with its message
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.2)


def bench_size(
    result: SizeResult,
    seed: int,
    work_root: Path,
    core_only: bool = False,
    drop_loaded_exports: bool = False,
) -> SizeResult:
    """Fill `result` stage by stage; a stage that fails is appended (with its time and peak) before it raises,
    so the caller still has every figure measured up to the failure."""
    customers, days = result.customers, result.days
    work = work_root / f"c{customers}_d{days}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    exports, key, warehouse, serving = (
        work / "exports",
        work / "answer_key",
        work / "warehouse.duckdb",
        work / "serving",
    )
    env = base_env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "SERVING_DIR": str(serving),
        "EXPORTS_DIR": str(exports),
        "GX_DIR": str(work / "gx"),
    }
    py = sys.executable

    def stage(name, cmd, rows=None, note="", allowed_exit=0, env=None):
        try:
            res = run_stage(name, cmd, {**base_env, **(env or {})}, rows, note, allowed_exit)
        except StageFailed as failed:
            result.stages.append(failed.result)
            raise
        result.stages.append(res)
        print(
            f"  {name:<24} {res.seconds:>9.2f} s  peak {res.peak_rss_mb:>8.1f} MB"
            + (f"  {res.rows_per_second:>12,} rows/s" if res.rows_per_second else ""),
            flush=True,
        )
        return res

    print(f"== {customers:,} customers x {days} days", flush=True)
    stage(
        "generate",
        [
            py,
            "-m",
            "raw.generate",
            "--customers",
            str(customers),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--out",
            str(exports),
            "--answer-key",
            str(key),
        ],
    )
    result.export_mb = round(sum(f.stat().st_size for f in exports.rglob("*.csv")) / 2**20, 1)

    # Full build on every day but the last, so "one more day" can be measured after it.
    # Days on which nothing happened have no folder; the last day with exports is held back.
    export_days = [str(d) for d in available_export_dates(exports)]
    all_but_last, last_day = export_days[:-1], export_days[-1]
    load_days = []
    for chunk_start in range(0, len(all_but_last), 200):  # keep the command line bounded
        load_days.append(all_but_last[chunk_start : chunk_start + 200])
    t0 = time.perf_counter()
    peak, dropping = 0.0, 0.0
    for chunk in load_days:
        args = [py, "-m", "raw.load", "--exports", str(exports), "--warehouse", str(warehouse)]
        for d in chunk:
            args += ["--date", d]
        try:
            res = run_stage("load", args, env)
        except StageFailed as failed:
            failed.result.seconds = round(time.perf_counter() - t0, 2)
            failed.result.peak_rss_mb = max(peak, failed.result.peak_rss_mb)
            result.stages.append(failed.result)
            raise
        peak = max(peak, res.peak_rss_mb)
        if drop_loaded_exports:  # not the load's time: a landing area archived once loaded
            dropped_at = time.perf_counter()
            for d in chunk:
                shutil.rmtree(exports / d)
            dropping += time.perf_counter() - dropped_at
    raw_rows = raw_row_count(warehouse)
    load_seconds = time.perf_counter() - t0 - dropping
    result.stages.append(
        StageResult("load", round(load_seconds, 2), peak, raw_rows, round(raw_rows / load_seconds))
    )
    print(
        f"  {'load':<24} {load_seconds:>9.2f} s  peak {peak:>8.1f} MB"
        f"  {raw_rows / load_seconds:>12,.0f} rows/s"
    )
    result.raw_rows = raw_rows

    build = stage("dbt build", dbt_cmd(["build", *build_flags("all")], work / "dbt"), raw_rows)
    result.profiles["dbt build"] = build_profile(work / "dbt" / "target", "all")
    gx = stage(
        "gx checks", [py, "-m", "expectations", "--warehouse", str(warehouse)], raw_rows, allowed_exit=1
    )
    result.figures["gx_all_blocking_checks_passed"] = not gx.note
    stage(
        "publish",
        [
            py,
            "-c",
            "from pathlib import Path; from orchestration.publication import publish_marts; "
            f"publish_marts(Path({str(warehouse)!r}), Path({str(serving)!r}))",
        ],
    )
    core = [s for s in result.stages if s.stage in CORE_STAGES]
    total = sum(s.seconds for s in core)
    result.figures["end_to_end_seconds"] = round(total, 2)
    result.figures["end_to_end_peak_rss_mb"] = max(s.peak_rss_mb for s in core)
    result.figures["gx_share_of_total"] = round(
        next(s.seconds for s in core if s.stage == "gx checks") / total, 3
    )

    if core_only:
        return result

    # The floor: the same SQL without dbt around it, on a copy so the real warehouse stays as built.
    # Same file name in another folder: DuckDB names the catalog after the file and dbt's SQL refers to it.
    floor_db = work / "floor" / warehouse.name
    floor_db.parent.mkdir()
    shutil.copy(warehouse, floor_db)
    script = work / "floor.sql"
    floor_sql = floor_script(work / "dbt" / "target" / "manifest.json")
    script.write_text(floor_sql)
    result.figures["floor_models"] = floor_sql.count("\ncreate table ") + floor_sql.count("\ncreate view ")
    result.figures["floor_data_tests"] = floor_sql.count("create or replace temp table _floor_test ")
    floor = stage(
        "floor (compiled SQL)",
        [
            py,
            "-c",
            # The same DuckDB settings as dbt's profile, so the floor works within the same memory.
            "import duckdb,sys; from settings import duckdb_config; "
            "con=duckdb.connect(sys.argv[1], config={**duckdb_config(), 'preserve_insertion_order': False}); "
            "con.execute(open(sys.argv[2]).read()); con.close()",
            str(floor_db),
            str(script),
        ],
        raw_rows,
    )
    floor_db.unlink()
    result.figures["build_to_floor_ratio"] = round(build.seconds / floor.seconds, 2)

    # The reference: the least work on the same landed rows, in a scratch file with the warehouse attached
    # read-only (nothing else writes it meanwhile), under the same DuckDB settings as the floor.
    script, touchpoint_tables = reference_script(landed_raw_tables(warehouse))
    (work / "reference.sql").write_text(script)
    reference_db = work / "reference" / "reference.duckdb"
    reference_db.parent.mkdir()
    reference = stage(
        "reference (raw read + one sort)",
        [
            py,
            "-c",
            "import duckdb,sys; from settings import duckdb_config; "
            "con=duckdb.connect(sys.argv[1], config={**duckdb_config(), 'preserve_insertion_order': False}); "
            "con.execute(f\"attach '{sys.argv[2]}' as wh (read_only)\"); "
            "con.execute(open(sys.argv[3]).read()); con.close()",
            str(reference_db),
            str(warehouse),
            str(work / "reference.sql"),
        ],
        raw_rows,
    )
    with duckdb.connect(str(reference_db), read_only=True) as con:
        touchpoints = con.execute("select count(*) from reference_touchpoints").fetchone()[0]
    shutil.rmtree(reference_db.parent)
    result.figures["reference_touchpoint_tables"] = touchpoint_tables
    result.figures["reference_touchpoints"] = touchpoints
    result.figures["build_to_reference_ratio"] = round(build.seconds / reference.seconds, 2)

    # One more day: load the held-back day and build incrementally, while a reader queries the publication.
    # Its dbt folder holds a parse made with the daily --vars, as the previous daily build leaves it in
    # Dagster (orchestration/dbt_assets.target_path): the daily build reuses it instead of parsing everything.
    run_stage("daily parse (untimed)", dbt_cmd(["parse", *scope_vars("latest_run")], work / "dbt_daily"), env)
    stop, latencies, errors = threading.Event(), [], []
    probe = threading.Thread(target=reader_probe, args=(serving / "marts.duckdb", stop, latencies, errors))
    probe.start()
    try:
        day_load = stage(
            "one more day: load",
            [
                py,
                "-m",
                "raw.load",
                "--exports",
                str(exports),
                "--warehouse",
                str(warehouse),
                "--date",
                str(last_day),
            ],
        )
        # The full build before it passed, so the daily build tests incremental models on the rows it wrote.
        day_build = stage("one more day: build", daily_build_cmd(py, work / "dbt_daily", "latest_run"))
        result.profiles["one more day: build"] = build_profile(work / "dbt_daily" / "target", "latest_run")
        day_pub = stage(
            "one more day: publish",
            [
                py,
                "-c",
                "from pathlib import Path; "
                "from orchestration.publication import publish_marts; "
                f"publish_marts(Path({str(warehouse)!r}), Path({str(serving)!r}))",
            ],
        )
        # The same daily build once more, with no new rows: it finds nothing changed since its last success
        # and does not start dbt (orchestration/build_signature.py).
        run_results = work / "dbt_daily" / "target" / "run_results.json"
        built_at = run_results.stat().st_mtime_ns
        no_new_rows = stage("daily build, no new rows", daily_build_cmd(py, work / "dbt_daily"))
        result.figures["daily_build_no_new_rows_ran_dbt"] = run_results.stat().st_mtime_ns != built_at
        # dbt's daily build on the same unchanged warehouse, run anyway: what dbt costs whatever the day holds
        # (a model or test per node, change detection in SQL, dbt itself), the part of one more day's build
        # that shrinking the day's work cannot remove.
        forced = stage(
            "daily dbt build, no new rows, forced",
            dbt_cmd(["build", *build_flags("latest_run")], work / "dbt_daily"),
        )
    finally:
        stop.set()
        probe.join()
    one_more = day_load.seconds + day_build.seconds + day_pub.seconds
    result.figures["one_more_day_seconds"] = round(one_more, 2)
    result.figures["one_more_day_share_of_full_build"] = round(day_build.seconds / build.seconds, 3)
    result.figures["daily_build_no_new_rows_share_of_full_build"] = round(
        no_new_rows.seconds / build.seconds, 3
    )
    result.figures["daily_build_no_new_rows_share_of_one_more_day_build"] = round(
        no_new_rows.seconds / day_build.seconds, 3
    )
    result.figures["forced_dbt_build_no_new_rows_share_of_full_build"] = round(
        forced.seconds / build.seconds, 3
    )
    lat = sorted(latencies)
    result.figures["reader_queries"] = len(lat)
    result.figures["reader_errors"] = len(errors)
    result.figures["reader_error_samples"] = errors[:3]
    if lat:
        result.figures["reader_latency_p50_ms"] = round(lat[len(lat) // 2] * 1000, 1)
        result.figures["reader_latency_max_ms"] = round(lat[-1] * 1000, 1)

    if not drop_loaded_exports:
        bench_dagster_main_job(result, stage, work, exports, all_but_last)
    return result


def bench_dagster_main_job(result: SizeResult, stage, work: Path, exports: Path, days: list[str]) -> None:
    """The path a user runs, `python -m orchestration.run`, on the export days the bare stages loaded, in a
    warehouse, serving folder, GX folder, dbt target folder and Dagster instance of its own (the bare
    stages' files stay untouched). The days are hard links to the generated files (a copy where links are
    not possible), so the job finds exports already in EXPORTS_DIR and generates nothing; it is called with
    settings only, no arguments."""
    root = work / "dagster"
    job_exports = root / "exports"
    for day in days:
        (job_exports / day).mkdir(parents=True)
        for file in (exports / day).iterdir():
            try:
                os.link(file, job_exports / day / file.name)
            except OSError:
                shutil.copy2(file, job_exports / day / file.name)
    env = {
        "DAGSTER_HOME": str(root / "dagster_home"),
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "EXPORTS_DIR": str(job_exports),
        "SERVING_DIR": str(root / "serving"),
        "GX_DIR": str(root / "gx"),
        "ALERTS_PATH": str(root / "alerts.log"),
        "DBT_TARGET_PATH": str(root / "target"),
        "PARTITIONS_START_DATE": days[0],
    }
    job = stage(DAGSTER_STAGE, [sys.executable, "-m", "orchestration.run"], result.raw_rows, env=env)
    bare = result.figures["end_to_end_seconds"]
    result.figures["dagster_main_job_seconds"] = job.seconds
    result.figures["dagster_main_job_peak_rss_mb"] = job.peak_rss_mb
    result.figures["orchestration_overhead_seconds"] = round(job.seconds - bare, 2)
    result.figures["dagster_to_bare_ratio"] = round(job.seconds / bare, 2)
    shutil.rmtree(root, ignore_errors=True)


def landed_raw_tables(warehouse: Path) -> set[str]:
    """Names of the tables in the warehouse's schema `raw`."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    return {name for (name,) in rows}


def code_version() -> str:
    """The commit the benchmark ran at, `+ local changes` when the checkout differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" + local changes" if dirty else "")


def run_command(args: argparse.Namespace) -> str:
    """The command that reproduces the measurement: sizes, seed and stage options, without this machine's
    paths (where the files go changes no figure)."""
    parts = ["python -m benchmarks.bench", f"--customers {args.customers}", f"--days {args.days}"]
    parts.append(f"--seed {args.seed}")
    parts += [
        flag
        for flag, on in (("--core-only", args.core_only), ("--drop-loaded-exports", args.drop_loaded_exports))
        if on
    ]
    return " ".join(parts)


def markdown(results: list[SizeResult], command: str, version: str) -> str:
    """The run's tables: the machine, the command, the targets judged, then each size's stages and figures."""
    mem = psutil.virtual_memory().total / 2**30
    lines = [
        f"Measured at commit {version} on {platform.machine()}, {psutil.cpu_count()} cores, "
        f"{mem:.0f} GiB memory, Python {platform.python_version()}, DuckDB {duckdb.__version__}: "
        f"`{command}`.",
        "",
        "Peak memory is the RSS of the stage's whole process tree. Rows/s counts raw rows delivered.",
        "",
        "### Targets, judged from this run",
        "",
        "| target | figure | size | limit | measured | verdict |",
        "|---|---|---|---:|---:|---|",
    ]
    for v in judge_targets(results):
        size = f"{v['customers']:,} x {v['days']} days" if v["days"] else "not in this run"
        measured = "" if v["measured"] is None else v["measured"]
        lines.append(
            f"| {v['target']} | `{v['figure']}` | {size} | {v['limit']} | {measured} | {v['verdict']} |"
        )
    lines.append("")
    for r in results:
        lines += [
            f"### {r.customers:,} customers x {r.days} days "
            f"({r.raw_rows:,} raw rows, {r.export_mb} MB of CSV)",
            "",
            "| stage | wall time (s) | peak memory (MB) | raw rows/s |",
            "|---|---:|---:|---:|",
        ]
        for s in r.stages:
            lines.append(f"| {s.stage} | {s.seconds} | {s.peak_rss_mb} | {s.rows_per_second or ''} |")
        lines.append("")
    if results:
        lines += figures_table(results) + [""] + profile_tables(max(results, key=lambda r: r.customers))
    return "\n".join(lines)


def _size_label(r: SizeResult) -> str:
    return f"{r.customers:,}"


def figures_table(results: list[SizeResult]) -> list[str]:
    """Every size's figures, one column per size."""
    names = list(dict.fromkeys(name for r in results for name in r.figures))
    lines = [
        "### Figures",
        "",
        "| figure | " + " | ".join(_size_label(r) for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(str(r.figures.get(name, "")) for r in results) + " |")
    return lines


def profile_tables(result: SizeResult) -> list[str]:
    """Where the full build's and the one more day build's time went at `result`'s size (dbt's own
    execution times per node, summed): per kind of node, then the slowest nodes of either build."""
    labels = {"dbt build": "full build", "one more day: build": "one more day"}
    builds = [labels[name] for name in labels if name in result.profiles]
    if not builds:
        return []
    profiles = [result.profiles[name] for name in labels if name in result.profiles]
    lines = [
        f"### Where the build time goes at {_size_label(result)} customers",
        "",
        "dbt's execution time per node (run_results.json), summed per kind of node; the build's wall time "
        "adds dbt's start-up and parse.",
        "",
        "| nodes | " + " | ".join(f"{b}: nodes | {b}: s" for b in builds) + " |",
        "|---|" + "---:|---:|" * len(builds),
    ]
    kinds = list(dict.fromkeys(k for prof in profiles for k in prof["by_kind"]))
    kinds.sort(key=lambda k: -max(prof["by_kind"].get(k, {}).get("seconds", 0) for prof in profiles))
    for kind in kinds:
        cells = []
        for prof in profiles:
            entry = prof["by_kind"].get(kind)
            cells += [str(entry["nodes"]), str(entry["seconds"])] if entry else ["", ""]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    elapsed = [cell for prof in profiles for cell in ("", str(prof["elapsed_seconds"]))]
    lines.append("| dbt's elapsed time | " + " | ".join(elapsed) + " |")
    slowest = list(dict.fromkeys(n["node"] for prof in profiles for n in prof["slowest"]))
    kind_of = {n["node"]: n["kind"] for prof in profiles for n in prof["slowest"]}
    lines += [
        "",
        "| slowest nodes | kind | " + " | ".join(f"{b} (s)" for b in builds) + " |",
        "|---|---|" + "---:|" * len(builds),
    ]
    for node in slowest:
        seconds = [prof["seconds_by_node"].get(node) for prof in profiles]
        cells = ["" if sec is None else str(round(sec, 2)) for sec in seconds]
        lines.append(f"| {node} | {kind_of[node]} | " + " | ".join(cells) + " |")
    return lines


def write_markdown(path: Path, tables: str) -> None:
    """Write the tables to `path`: between TABLES_BEGIN and TABLES_END when the file holds both (the rest of
    the page is kept as it is), else as the whole file."""
    page = path.read_text() if path.exists() else ""
    if TABLES_BEGIN in page and TABLES_END in page.split(TABLES_BEGIN, 1)[1]:
        before, rest = page.split(TABLES_BEGIN, 1)
        after = rest.split(TABLES_END, 1)[1]
        path.write_text(f"{before}{TABLES_BEGIN}\n{tables}\n{TABLES_END}{after}")
    else:
        path.write_text(f"# Benchmark run\n\n{tables}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--customers", default="10000", help="comma-separated sizes, e.g. 10000,100000,1000000"
    )
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=DEFAULT_WORK_DIR,
        help=f"generated data, warehouses and results (default {DEFAULT_WORK_DIR})",
    )
    parser.add_argument("--json", type=Path, help="results as JSON (default <work-dir>/results.json)")
    parser.add_argument(
        "--markdown",
        type=Path,
        help="results as Markdown tables (default <work-dir>/results.md); e.g. BENCHMARKS.md, whose text "
        "between the table markers is replaced",
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated data and warehouses")
    parser.add_argument(
        "--core-only",
        action="store_true",
        help="only the main job's bare stages (generate, load, build, GX, publish): no floor, no reference, "
        "no one more day, no Dagster main job",
    )
    parser.add_argument(
        "--drop-loaded-exports",
        action="store_true",
        help="delete each export day's files once loaded (when exports and warehouse overfill the disk)",
    )
    args = parser.parse_args(argv)
    json_path = args.json or args.work_dir / "results.json"
    markdown_path = args.markdown or args.work_dir / "results.md"
    sizes = [int(s) for s in args.customers.split(",") if s.strip()]
    results, failure = [], None
    for size in sizes:
        results.append(SizeResult(size, args.days))
        try:
            bench_size(results[-1], args.seed, args.work_dir, args.core_only, args.drop_loaded_exports)
        except Exception as exc:  # the figures measured so far are written below, then the run fails
            failure = exc
            message = without_machine_paths(str(exc), args.work_dir).splitlines() or [type(exc).__name__]
            results[-1].figures["failed"] = message[0]
            results[-1].figures["failure_output_tail"] = message[-10:]
            print(f"benchmark failed: {exc}", file=sys.stderr, flush=True)
            break
        finally:
            if not args.keep:
                shutil.rmtree(args.work_dir / f"c{size}_d{args.days}", ignore_errors=True)
    for r in results:  # stage notes and reader errors quote output, which may name this machine's folders
        r.figures = without_machine_paths(r.figures, args.work_dir)
        for s in r.stages:
            s.note = without_machine_paths(s.note, args.work_dir)
    command, version = run_command(args), code_version()
    for path in (json_path, markdown_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(
        json.dumps(
            {
                "command": command,
                "commit": version,
                "results": [asdict(r) for r in results],
                "targets": judge_targets(results),
            },
            indent=2,
        )
    )
    write_markdown(markdown_path, markdown(results, command, version))
    print(f"wrote {json_path} and {markdown_path}")
    return 1 if failure else 0


if __name__ == "__main__":
    raise SystemExit(main())
