"""Run a suite against DuckDB: GX pushes every batch's query down to DuckDB as SQL, nothing goes via pandas.

Why push-down. Pulling each batch into pandas and validating it in a GX *file* context would copy every row
of a batch into Python (25M journey events at 1M customers: gigabytes of RSS) and make GX evaluate pandas
frames, and a file context rewrites great_expectations.yml on every asset added, which grows with every asset
(quadratic in the batches). Pushed down, DuckDB computes each metric where the rows are. So:

- Validation runs in an *ephemeral* GX context: a batch's query asset lives in memory, created once per
  batch per run, never written to disk, and its suite is run by a GX Validator on the batch definition (as
  ValidationDefinition.run does), so neither the suite nor a validation definition is added to the
  context's stores (each add would serialise the object, and the suite's deletion afterwards touch the
  store again), and the batch is got once (materialised once, see below).
- Each batch is a GX SQL *query asset* on DuckDB, read through a cursor of the caller's own connection
  (`con.cursor()`: the same in-process database, so no second writer and no second file lock; it sees what
  `con` has committed). GX computes its metrics as aggregate queries in DuckDB; only the metric values and
  at most 20 unexpected values per expectation come back to Python (result format BASIC, RESULT_FORMAT).
- Data docs are kept: `build_docs()` stores this step's validation results in the GX file context under
  `gx_dir` (results accumulate there across runs so the docs show history) and renders this step's pages
  once, at the end of a step; the index lists the latest DOCS_INDEX_LIMIT results (rather than re-rendering
  every page of the whole history on every run).
- Batches are few because each costs GX a fixed amount of Python whatever its size (building the metric
  graph, reflecting the batch's column types, and the ephemeral context serialising its whole config to
  YAML on every asset and batch definition added, which the runner skips:
  `gx_compat.skip_in_memory_config_writes`). So a raw table's own row
  checks share one batch with the contract's not-null checks, and a row count is GX's table-level
  expectation inside a batch that reads the whole table (`row_count_expectation`) rather than a batch of
  its own wherever the suite has such a batch, and a suite judges several shares as columns of one scan.
- A batch whose plan is more than a scan (aggregates, joins, staging views) is materialised once into a temp
  table by GX (`create_temp_table`), so its several metric queries do not recompute it; a plain scan of a
  table is read in place (see `needs_materializing`).

Private GX internals. Two are touched, both in expectations/gx_compat.py with their reasons and guard
tests: DuckDB connections kept open between a query and its fetch (without it every expectation "fails"
with a hidden IndexError; GxRunner refuses to run when the patch cannot apply), and the ephemeral
context's config writes skipped (speed only).

An expectation that raised (exception_info.raised_exception) is a failure of error severity whatever its
declared severity: a gate that could not look must not let data through. A batch whose SQL does not bind
(checked by DuckDB before GX sees it) or fails while running is a raised failure too.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import great_expectations as gx
from duckdb_engine import ConnectionWrapper
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.validator.v1_validator import Validator
from sqlalchemy.exc import SQLAlchemyError

from expectations.data_docs import make_offline, validation_page
from expectations.gx_compat import GxPatchError as GxPatchError  # raised by GxRunner(); callers catch it
from expectations.gx_compat import persist_duckdb_connections, skip_in_memory_config_writes
from expectations.suite import ERROR, ROW_COUNT_EXPECTATION, Suite

log = logging.getLogger(__name__)

_DATASOURCE = "warehouse"
# What GX computes for each expectation besides its verdict. BASIC keeps the observed value, the counts and
# up to 20 unexpected values (what the gates report and the data docs show); GX's default SUMMARY also
# counts each unexpected value, one more metric per expectation that the gates never read (the data docs
# then list the sample values instead of a table of their counts). The saving shows on small warehouses,
# where GX's Python per metric dominates; on large ones the scans do.
RESULT_FORMAT = "BASIC"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict, with the numbers GX observed."""

    suite: str
    batch: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    raised: bool
    observed: dict = field(default_factory=dict)
    error_message: str | None = None

    @property
    def blocks(self) -> bool:
        """True when this outcome must stop downstream: an error-severity failure or any raised check."""
        return self.raised or (not self.success and self.severity == ERROR)

    def label(self) -> str:
        """Readable name: `<suite>.<batch>: <expectation>(<column>)`."""
        column = f"({self.column})" if self.column else ""
        return f"{self.suite}.{self.batch}: {self.expectation}{column}"


@dataclass(frozen=True)
class SuiteOutcome:
    """All outcomes of one suite; `passed` is False when any outcome blocks."""

    suite: str
    outcomes: list[ExpectationOutcome]
    row_count: int | None = None

    @property
    def passed(self) -> bool:
        return not any(o.blocks for o in self.outcomes)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.blocks]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and not o.blocks]

    def summary(self) -> str:
        """One line per failing expectation with the observed numbers, for logs and Dagster metadata."""
        lines = []
        for o in self.outcomes:
            if o.success and not o.raised:
                continue
            kind = "RAISED" if o.raised else ("ERROR" if o.blocks else "WARNING")
            detail = o.error_message if o.raised else _short(o.observed)
            lines.append(f"{kind} {o.label()}: {detail}")
        return "\n".join(lines) or "all expectations passed"


def _short(observed: dict) -> str:
    keep = (
        "observed_value",
        "element_count",
        "unexpected_count",
        "unexpected_percent",
        "partial_unexpected_list",
    )
    return ", ".join(f"{k}={observed[k]!r}" for k in keep if k in observed and observed[k] is not None)


def raised_exception(exception_info) -> tuple[bool, str | None]:
    """Whether GX caught an exception for an expectation, and its message.

    GX reports this either flat ({"raised_exception": ...}) or keyed by metric id; both shapes are read.
    """
    if not exception_info:
        return False, None
    candidates = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    for info in candidates:
        if isinstance(info, dict) and info.get("raised_exception"):
            return True, info.get("exception_message") or "expectation raised"
    return False, None


# Physical operators of a plain read: a batch made only of these is scanned in place by every GX metric query.
_PLAIN_SCAN = frozenset(
    {
        "SEQ_SCAN",
        "TABLE_SCAN",
        "PROJECTION",
        "FILTER",
        "STREAMING_LIMIT",
        "LIMIT",
        "DUMMY_SCAN",
        "COLUMN_DATA_SCAN",
    }
)


def plan_operators(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    """DuckDB's physical operators for `sql`, views expanded; raises duckdb.Error if `sql` does not bind."""
    names: set[str] = set()
    pending = json.loads(con.execute(f"explain (format json) {sql}").fetchall()[0][1])
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            names.add(node.get("name", ""))
            pending.extend(node.get("children", []))
    return names - {""}


def needs_materializing(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    """True when GX should compute a batch once into a temp table instead of re-running it per metric.

    GX runs several metric queries per batch, each over the batch query as a subquery. A projection or filter
    of a table (fct_journey_events' 25M rows at 1M customers) is cheapest scanned in place: copying it
    would only cost memory. A batch that aggregates, joins or reads a staging view (dedup windows) is
    computed once.
    """
    return not plan_operators(con, sql) <= _PLAIN_SCAN


class GxRunner:
    """Validates suites for one step (in an in-memory GX context) and builds data docs once at its end.

    `gx_dir` holds the GX file context that keeps validation results across runs and the data docs site.
    The runner's interface is what orchestration/gx_gate.py and `python -m expectations` use:
    `validate(con, suite)` per table, then `build_docs()` once.
    """

    def __init__(self, gx_dir: Path, docs=None):
        """`docs`: the file context of `gx_dir` (docs_context) when the caller has it open already, so that
        build_docs() does not open it a second time; else build_docs() opens it."""
        persist_duckdb_connections()
        gx_dir.mkdir(parents=True, exist_ok=True)
        self.gx_dir = gx_dir
        self.docs = docs
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        skip_in_memory_config_writes(self.context)
        # This step's validation results, in memory until build_docs() stores them in the file context.
        self.pending_results: list[tuple[ValidationResultIdentifier, object]] = []
        # Keys of the results build_docs() stored, for a parent process that builds the index.
        self.stored_keys: list[ValidationResultIdentifier] = []

    def validate(self, con: duckdb.DuckDBPyConnection, suite: Suite) -> SuiteOutcome:
        """Run every batch of `suite` on `con`; a batch whose query fails counts as a raised failure."""
        outcomes: list[ExpectationOutcome] = []
        row_count = None
        cursors: list[duckdb.DuckDBPyConnection] = []
        datasources: dict[bool, object] = {}

        def datasource(materialize: bool):
            if materialize not in datasources:

                def cursor() -> ConnectionWrapper:
                    cursors.append(con.cursor())
                    return ConnectionWrapper(cursors[-1])

                datasources[materialize] = self.context.data_sources.add_sql(
                    f"{_DATASOURCE}_materialized" if materialize else _DATASOURCE,  # deleted after the suite
                    # Never opened: the creator hands GX a cursor of `con` (same database, no second writer).
                    connection_string="duckdb:///:memory:",
                    create_temp_table=materialize,
                    kwargs={"creator": cursor},
                )
            return datasources[materialize]

        try:
            for batch in suite.batches:
                try:
                    materialize = needs_materializing(con, batch.sql)  # also binds: a broken query fails here
                    if batch.expectations:
                        outcomes.extend(self._run_batch(datasource(materialize), suite.name, batch))
                except (duckdb.Error, SQLAlchemyError) as exc:
                    # The query failed while running: in DuckDB directly, or in GX materialising the batch
                    # (GX catches failures of its own metric queries and reports them per expectation).
                    outcomes.append(
                        ExpectationOutcome(
                            suite.name,
                            batch.name,
                            "query",
                            None,
                            ERROR,
                            False,
                            True,
                            {},
                            f"{type(exc).__name__}: {exc}",
                        )
                    )
        finally:
            # Nothing of this suite stays in the context (its results wait in pending_results), so the same
            # suite can be validated again in this step and the in-memory config stays small.
            for ds in datasources.values():
                ds.get_execution_engine().close()
                self.context.data_sources.delete(ds.name)
            for c in cursors:
                c.close()  # drops the batches' temp tables with the cursor that made them
        counted = [o for o in outcomes if o.expectation == ROW_COUNT_EXPECTATION and not o.raised]
        if counted and isinstance(counted[0].observed.get("observed_value"), int):
            row_count = counted[0].observed["observed_value"]  # the whole table's (Batch checks the batch)
        return SuiteOutcome(suite.name, outcomes, row_count)

    def _run_batch(self, datasource, suite_name: str, batch) -> list[ExpectationOutcome]:
        gx_name = f"{suite_name}.{batch.name}"
        asset = datasource.add_query_asset(gx_name, query=batch.sql)
        # What ValidationDefinition.run() does, without adding the suite or a validation definition to the
        # context's stores: a Validator on the batch definition gets the batch once, as it validates
        # (Batch.validate on a batch got beforehand gets it a second time: a materialised batch's query
        # would run twice, into two temp tables).
        validator = Validator(asset.add_batch_definition_whole_table("whole"), result_format=RESULT_FORMAT)
        result = validator.validate_expectation_suite(
            gx.ExpectationSuite(name=gx_name, expectations=[e.copy() for e in batch.expectations])
        )
        # What ValidationDefinition.run() adds to a result, and the key it stores it under (file context).
        run_id = RunIdentifier(run_time=datetime.datetime.now(datetime.UTC))
        result.meta["run_id"] = run_id
        result.meta["validation_time"] = run_id.run_time
        key = ValidationResultIdentifier(
            ExpectationSuiteIdentifier(name=gx_name), run_id, validator.active_batch_id
        )
        self.pending_results.append((key, result))  # stored and rendered by build_docs()
        outcomes = []
        for er in result.results:
            raised, message = raised_exception(er.exception_info)
            config = er.expectation_config
            outcomes.append(
                ExpectationOutcome(
                    suite=suite_name,
                    batch=batch.name,
                    expectation=config.type,
                    column=config.kwargs.get("column") or _columns(config.kwargs),
                    severity=getattr(config.severity, "value", str(config.severity)),
                    success=bool(er.success) and not raised,
                    raised=raised,
                    observed=_json_safe(er.result or {}),
                    error_message=message,
                )
            )
        return outcomes

    def build_docs(self, index: bool = True) -> Path:
        """Store this step's validation results in the file context and render them; returns index.html.

        `index=False` renders only this runner's pages, for a worker process whose parent builds the index
        once after every worker stored its results (`build_docs_index`); `stored_keys` lists what it stored.
        """
        files = self.docs = self.docs or docs_context(self.gx_dir)
        keys = [key for key, _ in self.pending_results]
        store = files.validation_results_store  # GX looks the store up by name on every access
        for key, result in self.pending_results:
            store.set(key, result)
        self.pending_results.clear()
        self.stored_keys.extend(keys)
        if keys:  # only this step's pages are rendered (GX reads an empty list as "render every result")
            # A set: GX tests each listed result for membership (`in`), which on a list compares the keys
            # one by one (every listed result against every indexed one, each key converted to a tuple).
            files.build_data_docs(resource_identifiers=set(keys), build_index=index)
            if index:
                site = _index_path(files).parent
                make_offline(site, [validation_page(site, key) for key in keys])
        return _index_path(files)


def docs_context(gx_dir: Path):
    """The GX file context under `gx_dir` that stores validation results and renders the data docs.

    Creates the context on first use and bounds its index (DOCS_INDEX_LIMIT). Call it once before starting
    worker processes that share `gx_dir`, so that they only read its config and never race to create it.
    """
    gx_dir.mkdir(parents=True, exist_ok=True)
    files = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    files.variables.progress_bars = ProgressBarsConfig(globally=False)
    _bound_docs_index(files)
    return files


def build_docs_index(gx_dir: Path, stored: list[ValidationResultIdentifier]) -> Path:
    """Rebuild the data docs index over the results workers stored; returns index.html.

    GX builds the index from the results store, not from the keys passed; one key is passed (its page is
    rendered again) because an empty list would mean "render every result of the whole history".
    """
    files = docs_context(gx_dir)
    if stored:
        files.build_data_docs(resource_identifiers={stored[-1]}, build_index=True)
        site = _index_path(files).parent
        make_offline(site, [validation_page(site, key) for key in stored])
    return _index_path(files)


def _index_path(files) -> Path:
    return Path(files.get_docs_sites_urls(only_if_exists=False)[0]["site_url"].removeprefix("file://"))


# The data docs index lists this many latest validation results (about two full runs of every suite).
# GX reads every listed result from disk to build the index, so an unbounded index makes each step slower
# than the last; older result pages stay on disk, and every result stays in the validation results store.
DOCS_INDEX_LIMIT = 200


def _bound_docs_index(files) -> None:
    """Cap the index of the local data docs site at DOCS_INDEX_LIMIT (writes the config only to change it)."""
    site = files.list_data_docs_sites().get("local_site")
    if not site:
        return
    index_builder = dict(site.get("site_index_builder") or {"class_name": "DefaultSiteIndexBuilder"})
    if index_builder.get("validation_results_limit") != DOCS_INDEX_LIMIT:
        index_builder["validation_results_limit"] = DOCS_INDEX_LIMIT
        files.update_data_docs_site("local_site", {**site, "site_index_builder": index_builder})


def _columns(kwargs: dict) -> str | None:
    for key in ("column_list", "column_A"):
        if key in kwargs:
            value = kwargs[key]
            return ",".join(value) if isinstance(value, list) else f"{value},{kwargs.get('column_B')}"
    return None


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value[:20]]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
