"""The shape of a suite: named SQL batches, each with the expectations that judge it.

A suite module (expectations/suites/<layer>/<table>.py) exposes `build(ctx) -> Suite`. Expectations that
need the previous run (row counts) are built at run time from `ctx`, so suites are plain functions.
Severity is GX's own `severity` field: "critical" = error (blocks downstream), "warning" = recorded only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

import great_expectations.expectations as gxe

ERROR = "critical"
WARNING = "warning"
# GX's name for the table-level row count expectation (see row_count_expectation).
ROW_COUNT_EXPECTATION = "expect_table_row_count_to_be_between"


@dataclass(frozen=True)
class LearnedFigure:
    """A figure's value in the last passing run of the company, and the run that observed it."""

    figure: str
    value: float
    run_id: str
    recorded_at: datetime | None = None

    def origin(self) -> str:
        when = f" at {self.recorded_at:%Y-%m-%d %H:%M:%S %Z}".rstrip() if self.recorded_at else ""
        return f"learned from run {self.run_id}{when}"


@dataclass(frozen=True)
class Batch:
    """One bounded query and the expectations that judge its rows.

    `sql` may use `{relation}` (the table under test, schema-qualified) and `{where}` (the partition
    filter for raw tables, or `true`).
    """

    name: str
    sql: str
    expectations: list[gxe.Expectation]

    def __post_init__(self) -> None:
        # GX's query assets take only a query starting with SELECT and raise otherwise, which would end the
        # whole gate step instead of judging this batch: refuse it when the suite is written.
        if not self.sql.lstrip().lower().startswith("select"):
            raise ValueError(
                f"batch {self.name!r}: GX needs a query starting with SELECT; write a WITH as a subquery"
            )
        # A table-level row count counts the batch's rows: only a batch that is the whole table may carry it.
        # Checked as the suite writes it (with `{relation}`); `Suite.bound` only fills the name in.
        unbound = "{relation}" in self.sql
        counts = any(e.expectation_type == ROW_COUNT_EXPECTATION for e in self.expectations)
        if unbound and counts and not _whole_table(self.sql):
            raise ValueError(f"batch {self.name!r}: a row count needs a batch `select ... from {{relation}}`")


def _whole_table(sql: str) -> bool:
    """True for `select <columns> from {relation}` and nothing more (no filter, join or grouping)."""
    lowered = " ".join(sql.lower().split())
    return lowered.endswith(" from {relation}") and lowered.count(" from ") == 1


@dataclass(frozen=True)
class Suite:
    """Every batch GX validates for one table or model."""

    name: str
    layer: str
    batches: list[Batch] = field(default_factory=list)

    def bound(self, relation: str, where: str = "true") -> Suite:
        """The suite with `{relation}` and `{where}` filled into every batch's SQL."""
        return replace(
            self, batches=[replace(b, sql=b.sql.format(relation=relation, where=where)) for b in self.batches]
        )


@dataclass(frozen=True)
class SuiteContext:
    """What a suite needs to know about this run.

    `relation` is the schema-qualified table; `where` bounds raw tables to the export days being loaded;
    `previous_row_count` is the count recorded by the last successful run (None on the first run);
    `learned` the figures learned from the company's last passing run ({figure: LearnedFigure}, empty on
    the first run; expectations/learned.py).
    """

    relation: str
    where: str = "true"
    previous_row_count: int | None = None
    learned: Mapping[str, LearnedFigure] = field(default_factory=dict)


def row_count_expectation(
    ctx: SuiteContext, tolerance: float = 0.0, severity: str = ERROR
) -> gxe.ExpectTableRowCountToBeBetween:
    """Whole-table row count at least (1 - tolerance) x the previous passing run's; unbounded the first time.

    Raw tables only ever append, so any drop means a table was truncated or reloaded by mistake; marts may
    shrink a little when late rows re-attribute events, hence the tolerance. It goes in a batch that reads
    the whole table (`select ... from {relation}`, checked by Batch); GX counts in DuckDB, and the count it
    observes becomes the baseline of the next run (SuiteOutcome.row_count).
    """
    minimum = 0 if ctx.previous_row_count is None else int(ctx.previous_row_count * (1 - tolerance))
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=minimum,
        severity=severity,
        meta={"previous_row_count": ctx.previous_row_count, "tolerance": tolerance},
    )


def row_count_batch(ctx: SuiteContext, tolerance: float = 0.0, severity: str = ERROR) -> Batch:
    """A batch of its own for the row count, for a suite with no other batch reading the whole table."""
    return Batch(
        name="row_count",
        sql="select * from {relation}",
        expectations=[row_count_expectation(ctx, tolerance, severity)],
    )
