"""The one way a table's GX suite is run, by the Dagster asset checks and by `python -m expectations` alike.

`gate_table` is a gate: it reads the table's baselines from the warehouse (the previous row count and the
figures learned from the company's last passing run, expectations/state.py), builds and validates the
suite, explains each blocking failure in one line, and on a pass records the new baselines. The Dagster
checks (orchestration/gx_gate.run_gate) and the command line call it table after table in one process, on
the step's own connection; what the benchmark measures is what production runs.

The command line may also spread the suites over worker processes (`--jobs`) on read-only connections:
those call the same `check_table` with the baselines their parent read before forking, and the parent then
`record`s the passes, the only writes.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from expectations import learned, state
from expectations.registry import LAYERS, build_suite, suite_names
from expectations.runtime import GxRunner, SuiteOutcome, build_docs_index, docs_context
from expectations.suite import Suite, SuiteContext


@dataclass(frozen=True)
class Baseline:
    """What a table's gate compares with: the last passing run's row count and learned figures."""

    previous_row_count: int | None = None
    learned: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TableCheck:
    """A table's suite, its outcome, the learned figures it observed (a pass only) and why it failed."""

    layer: str
    name: str
    relation: str
    suite: Suite
    outcome: SuiteOutcome
    figures: dict[str, float]
    explained: list[str]


def new_run_id() -> str:
    """An id for a run that has none of its own (the command line); Dagster passes its run id."""
    return f"local-{uuid.uuid4().hex[:12]}"


def read_baseline(con: duckdb.DuckDBPyConnection, name: str) -> Baseline:
    """The baselines of suite `name` (needs a writable connection the first time: it creates the tables)."""
    return Baseline(state.previous_row_count(con, name), state.learned_figures(con, name))


def check_table(
    runner: GxRunner,
    con: duckdb.DuckDBPyConnection,
    layer: str,
    name: str,
    relation: str | None = None,
    where: str = "true",
    baseline: Baseline | None = None,
) -> TableCheck:
    """Validate one table against `baseline` (read from `con` when None); writes nothing."""
    relation = relation or f"{layer}.{name}"
    baseline = read_baseline(con, name) if baseline is None else baseline
    ctx = SuiteContext(
        relation=relation,
        where=where,
        previous_row_count=baseline.previous_row_count,
        learned=baseline.learned,
    )
    suite = build_suite(layer, name, ctx).bound(relation, where)
    outcome = runner.validate(con, suite)
    figures = learned.observe(con, suite) if outcome.passed else {}
    explained = [explain(o, suite, con, relation, where) for o in outcome.blocking_failures]
    return TableCheck(layer, name, relation, suite, outcome, figures, explained)


def record(con: duckdb.DuckDBPyConnection, check: TableCheck, run_id: str) -> None:
    """Keep a passing check's row count and learned figures as the next run's baselines."""
    if not check.outcome.passed:
        return
    if check.outcome.row_count is not None:
        state.record_row_count(con, check.name, check.outcome.row_count)
    state.record_learned_figures(con, check.name, check.figures, run_id)


def gate_table(
    runner: GxRunner,
    con: duckdb.DuckDBPyConnection,
    layer: str,
    name: str,
    relation: str | None = None,
    where: str = "true",
    run_id: str | None = None,
) -> TableCheck:
    """Check one table on a writable connection and, when it passed, record its baselines."""
    check = check_table(runner, con, layer, name, relation, where)
    record(con, check, run_id or new_run_id())
    return check


# Expectation arguments that state a bound (what a figure is compared with).
_BOUND_KWARGS = (
    "min_value",
    "max_value",
    "strict_min",
    "strict_max",
    "value_set",
    "regex",
    "mostly",
    "type_",
)
_FIGURES = ("observed_value", "unexpected_count", "unexpected_percent", "element_count")


def suite_file(layer: str, name: str) -> str:
    """The file that holds a suite's rules and bounds, relative to the repository root."""
    return f"expectations/suites/{layer}/{name}.py"


def _expectation_kwargs(suite: Suite, outcome) -> dict:
    for batch in suite.batches:
        if batch.name != outcome.batch:
            continue
        candidates = [
            {**e.configuration.kwargs, **(e.meta or {})}
            for e in batch.expectations
            if e.expectation_type == outcome.expectation
            and (outcome.column is None or e.configuration.kwargs.get("column") == outcome.column)
        ]
        # A figure judged by several bands (absolute, learned blocking, learned warning): the one whose
        # severity failed, and among those the one the observed value lies outside of.
        same_severity = [c for c in candidates if _severity(c) == outcome.severity] or candidates
        for kwargs in same_severity:
            if _outside(kwargs, outcome.observed):
                return kwargs
        if same_severity:
            return same_severity[0]
    return {}


def _severity(kwargs: dict) -> str | None:
    value = kwargs.get("severity")
    return getattr(value, "value", value)


def _outside(kwargs: dict, observed: dict) -> bool:
    values = observed.get("partial_unexpected_list") or []
    if observed.get("observed_value") is not None:
        values = [*values, observed["observed_value"]]
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    for value in values:
        if not isinstance(value, int | float):
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            return True
    return False


def _offending_files(con, relation: str, where: str, outcome) -> list[str]:
    """Raw tables only: the export files holding sample offending values of a column expectation."""
    if not relation.startswith("raw.") or not outcome.column or "," in outcome.column:
        return []
    sample = outcome.observed.get("partial_unexpected_list") or []
    column = '"' + outcome.column.replace('"', '""') + '"'
    if outcome.expectation == "expect_column_values_to_not_be_null":
        condition, params = f"{column} is null", []
    elif sample:
        values = [v for v in sample if v is not None][:20]
        if not values:
            return []
        condition, params = f"{column} in ({', '.join('?' for _ in values)})", values
    else:
        return []
    try:
        rows = con.execute(
            f"select distinct _source_file from {relation} where ({where}) and {condition} "
            "order by 1 limit 5",
            params,
        ).fetchall()
    except duckdb.Error:
        return []
    return [r[0] for r in rows]


def explain(outcome, suite: Suite, con, relation: str, where: str) -> str:
    """One line for a failed expectation: which rule, the figure observed, the bound, and where the bound
    comes from (the suite file and line, or the run it was learned from); for raw tables also the export
    files holding offending rows."""
    check = f"{outcome.suite}.{outcome.batch}: {outcome.expectation}" + (
        f"({outcome.column})" if outcome.column else ""
    )
    if outcome.raised:
        return f"{check} raised: {outcome.error_message}"
    figures = ", ".join(
        f"{k}={outcome.observed[k]!r}" for k in _FIGURES if outcome.observed.get(k) is not None
    )
    sample = outcome.observed.get("partial_unexpected_list")
    if sample:
        figures += f", e.g. {sample[:5]!r}"
    kwargs = _expectation_kwargs(suite, outcome)
    bound = ", ".join(f"{k}={kwargs[k]!r}" for k in _BOUND_KWARGS if kwargs.get(k) is not None)
    if kwargs.get("learned_value") is not None:
        bound += f" (learned value {kwargs['learned_value']!r})"
    if kwargs.get("rule"):
        bound = f"{bound}, rule: {kwargs['rule']}" if bound else f"rule: {kwargs['rule']}"
    origin = kwargs.get("bound_origin") or f"in {suite_file(suite.layer, suite.name)}"
    line = f"{check}: observed {figures or 'n/a'}; bound {bound or 'n/a'} ({origin})"
    files = _offending_files(con, relation, where, outcome)
    if files:
        line += f"; files {', '.join(files)}"
    return line


@dataclass(frozen=True)
class _Planned:
    """One suite to validate, with the baseline read before any worker started."""

    layer: str
    name: str
    baseline: Baseline
    batches: int

    @property
    def relation(self) -> str:
        return f"{self.layer}.{self.name}"


def run_suites(
    warehouse: Path,
    gx_dir: Path,
    config: dict[str, str],
    layers=LAYERS,
    jobs: int = 1,
    run_id: str | None = None,
    on_skip=print,
) -> tuple[list[TableCheck], Path]:
    """Gate every table of `layers` that has a suite and is in the warehouse; returns the checks in suite
    order and the data docs index.

    `jobs=1` is what the Dagster checks run: `gate_table` table after table on one writable connection.
    More jobs validate in that many forked worker processes, each with a read-only connection and its share
    of DuckDB's threads and memory limit; this process reads the baselines before them and records the
    passes and builds the docs index after them, the only writes.
    """
    run_id = run_id or new_run_id()
    planned = _plan(warehouse, config, layers, on_skip, for_workers=jobs > 1)
    jobs = max(1, min(jobs, len(planned)))
    if jobs == 1:
        runner = GxRunner(gx_dir)  # build_docs() opens the docs context
        con = duckdb.connect(str(warehouse), config=config)
        try:
            checks = [gate_table(runner, con, p.layer, p.name, p.relation, run_id=run_id) for p in planned]
        finally:
            con.close()
        return checks, runner.build_docs()
    docs_context(gx_dir)  # created here, before any worker reads it
    shares = _shares(planned, jobs)
    worker_config = _worker_config(config, jobs)
    # Forked after the imports; no DuckDB connection is open in this process while the workers run.
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(_check_share, warehouse, gx_dir, worker_config, s) for s in shares]
        results = [f.result() for f in futures]
    by_key = {(c.layer, c.name): c for share_checks, _ in results for c in share_checks}
    checks = [by_key[p.layer, p.name] for p in planned]
    con = duckdb.connect(str(warehouse), config=config)
    try:
        for check in checks:
            record(con, check, run_id)
    finally:
        con.close()
    return checks, build_docs_index(gx_dir, [key for _, keys in results for key in keys])


def _plan(warehouse: Path, config: dict[str, str], layers, on_skip, for_workers: bool) -> list[_Planned]:
    """The suites whose table is in the warehouse (read, then closed); `for_workers`: with their baselines
    and batch counts, which worker processes need (in one process, gate_table reads each baseline)."""
    con = duckdb.connect(str(warehouse), config=config)
    try:
        existing = set(con.execute("select schema_name, table_name from duckdb_tables()").fetchall()) | set(
            con.execute("select schema_name, view_name from duckdb_views()").fetchall()
        )
        planned = []
        for layer in layers:
            for name in suite_names(layer):
                if (layer, name) not in existing:
                    on_skip(f"{layer}.{name}: not in the warehouse, skipped")
                    continue
                if not for_workers:
                    planned.append(_Planned(layer, name, Baseline(), 0))
                    continue
                batches = len(build_suite(layer, name, SuiteContext(relation=f"{layer}.{name}")).batches)
                planned.append(_Planned(layer, name, read_baseline(con, name), batches))
        return planned
    finally:
        con.close()


def _shares(planned: list[_Planned], jobs: int) -> list[list[_Planned]]:
    """Split the suites into `jobs` shares of about equal batch counts (GX's unit of fixed cost)."""
    shares: list[list[_Planned]] = [[] for _ in range(jobs)]
    loads = [0] * jobs
    for item in sorted(planned, key=lambda p: -p.batches):
        i = loads.index(min(loads))
        shares[i].append(item)
        loads[i] += item.batches
    return shares


def _worker_config(config: dict[str, str], jobs: int) -> dict[str, str]:
    """Each worker's DuckDB settings: its share of the cores and of the memory limit."""
    threads = max(1, (os.cpu_count() or 1) // jobs)
    return {
        **config,
        "threads": str(threads),
        "memory_limit": split_memory_limit(config["memory_limit"], jobs),
    }


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
_BYTES = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def split_memory_limit(limit: str, parts: int) -> str:
    """`limit` (DuckDB's form, e.g. "3GB") divided by `parts`, in MB; raises ValueError for another form."""
    match = _SIZE.match(limit)
    if not match:
        raise ValueError(f"memory limit {limit!r}: expected a number and a unit such as 3GB or 512MiB")
    total = float(match.group(1)) * _BYTES[match.group(2).upper()]
    return f"{max(1, int(total / parts / 1e6))}MB"


def _check_share(warehouse: Path, gx_dir: Path, config: dict[str, str], share: list[_Planned]):
    """A worker: check `share` on a read-only connection, render its data docs pages; return checks, keys."""
    runner = GxRunner(gx_dir)
    con = duckdb.connect(str(warehouse), read_only=True, config=config)
    try:
        checks = [check_table(runner, con, p.layer, p.name, p.relation, baseline=p.baseline) for p in share]
    finally:
        con.close()
    runner.build_docs(index=False)
    return checks, runner.stored_keys
