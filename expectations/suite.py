"""The shape of a suite: named SQL batches, each with the expectations that judge it.

A suite module (expectations/suites/<layer>/<table>.py) exposes `build(ctx) -> Suite`. Expectations that
need the previous run (row counts) are built at run time from `ctx`, so suites are plain functions.
Severity is GX's own `severity` field: "critical" = error (blocks downstream), "warning" = recorded only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import great_expectations.expectations as gxe

ERROR = "critical"
WARNING = "warning"


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
    `previous_row_count` is the count recorded by the last successful run (None on the first run).
    """

    relation: str
    where: str = "true"
    previous_row_count: int | None = None


def row_count_batch(ctx: SuiteContext, tolerance: float = 0.0, severity: str = ERROR) -> Batch:
    """Whole-table row count at least (1 - tolerance) x the previous passing run's; unbounded the first time.

    Raw tables only ever append, so any drop means a table was truncated or reloaded by mistake; marts may
    shrink a little when late rows re-attribute events, hence the tolerance. The count is aggregated in
    DuckDB so the batch is one row whatever the table size.
    """
    minimum = 0 if ctx.previous_row_count is None else int(ctx.previous_row_count * (1 - tolerance))
    return Batch(
        name="row_count",
        sql="select count(*) as row_count from {relation}",
        expectations=[
            gxe.ExpectColumnValuesToBeBetween(
                column="row_count",
                min_value=minimum,
                severity=severity,
                meta={"previous_row_count": ctx.previous_row_count, "tolerance": tolerance},
            )
        ],
    )
