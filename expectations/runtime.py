"""Run a suite against DuckDB: each batch's bounded query goes through pandas into GX.

Why pandas and not GX's SQL datasource: with DuckDB the SQL datasource closes its connection before
reading results (DuckDB is missing from GX's `_PERSISTED_CONNECTION_DIALECTS`, GX issues 10738 and 11579),
so every expectation fails with an IndexError hidden in exception_info. Patching that private tuple makes
push-down work, but ties the gates to a GX internal. Our batches are bounded instead: raw tables are read
only for the export days being loaded, counts and invariants are aggregated in DuckDB, and only the columns
a suite judges are selected, so pandas stays small and fast.

An expectation that raised (exception_info.raised_exception) is a failure of error severity whatever its
declared severity: a gate that could not look must not let data through.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig

from expectations.suite import ERROR, Suite

log = logging.getLogger(__name__)

_DATASOURCE = "warehouse"


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


class GxRunner:
    """One GX file context (configured in code) for a step; validates suites and builds data docs.

    `gx_dir` is an ignored folder; results accumulate there across runs so data docs show history.
    """

    def __init__(self, gx_dir: Path):
        gx_dir.mkdir(parents=True, exist_ok=True)
        self.context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        try:
            self._datasource = self.context.data_sources.get(_DATASOURCE)
        except (KeyError, ValueError, LookupError):
            self._datasource = self.context.data_sources.add_pandas(_DATASOURCE)

    def _batch_definition(self, asset_name: str):
        try:
            asset = self._datasource.get_asset(asset_name)
        except LookupError:
            asset = self._datasource.add_dataframe_asset(asset_name)
        try:
            return asset.get_batch_definition("whole")
        except KeyError:
            return asset.add_batch_definition_whole_dataframe("whole")

    def validate(self, con: duckdb.DuckDBPyConnection, suite: Suite) -> SuiteOutcome:
        """Run every batch of `suite` on `con`; a batch whose query fails counts as a raised failure."""
        outcomes: list[ExpectationOutcome] = []
        row_count = None
        for batch in suite.batches:
            gx_name = f"{suite.name}.{batch.name}"
            try:
                frame = con.sql(batch.sql).df()
            except duckdb.Error as exc:
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
                continue
            if batch.name == "row_count" and len(frame) == 1:
                row_count = int(frame.iloc[0, 0])
            gx_suite = self.context.suites.add_or_update(
                gx.ExpectationSuite(name=gx_name, expectations=[e.copy() for e in batch.expectations])
            )
            definition = self.context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=gx_name, data=self._batch_definition(gx_name), suite=gx_suite)
            )
            checkpoint = self.context.checkpoints.add_or_update(
                gx.Checkpoint(name=gx_name, validation_definitions=[definition], actions=[])
            )
            run = checkpoint.run(batch_parameters={"dataframe": frame})
            for result in run.run_results.values():
                for er in result.results:
                    raised, message = raised_exception(er.exception_info)
                    config = er.expectation_config
                    outcomes.append(
                        ExpectationOutcome(
                            suite=suite.name,
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
        return SuiteOutcome(suite.name, outcomes, row_count)

    def build_docs(self) -> Path:
        """Render data docs for every stored validation; returns the index.html path."""
        sites = self.context.build_data_docs()
        url = next(iter(sites.values()))
        return Path(url.removeprefix("file://"))


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
