"""Bounds learned from the company's own history, for figures that describe its distribution.

Some figures a suite judges are not rules but portraits of one company: the share of its journey each silo
takes (zero for a silo it has no feed for), its defection rate, how many touchpoints a customer collects,
how many lines an invoice carries. A bound measured on one company blocks another that is legitimately
different, so these bounds are drawn around the figure the company itself showed in its last passing run:

- A suite declares such a figure with `learned_between`: the figure's column in a batch of one row, the
  absolute band that holds for any company (a share lies in [0, 1]), and the `Drift` the figure may show
  against its learned value before the gate warns and before it blocks.
- The first run of a company has nothing learned: only the absolute band judges it, and the figures it
  observes become the learned values once its suite passed (state.record_learned_figures, table
  audit.gx_learned_figures in the warehouse, beside the data they describe; a rebuilt warehouse learns
  afresh).
- Every later run is judged against the values of the last passing run, and re-learns them when it passes:
  the figures may grow with the history (a longer history holds more invoices per customer) but may not
  jump between two runs. A figure that is NULL (nothing to compute it from) is neither judged nor learned.

A run is named by its id: a Dagster run's id, which the publication it leads to records as
marts.publication_info.dagster_run_id, or `local-...` for the command line. A suite's figures are learned
when that suite passes, like its row count, whether or not the run went on to publish.

Business invariants (keys unique, amounts reconcile, no event after the as-of instant) are not learned:
they are absolute bounds in the suites. A failed learned bound names the figure, the learned value, the run
that set it, the table that holds it and the suite line that states the tolerance (expectations.gate.explain).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING, SuiteContext

Band = tuple[float | None, float | None]
# The key in an expectation's meta naming the learned figure it judges or observes (its column).
FIGURE_KEY = "learned_figure"
LEARNED_TABLE = "audit.gx_learned_figures"
_REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Drift:
    """How far a figure may move from its learned value `v`: from `v * below - slack` to `v * above + slack`.

    A factor left None leaves that end open. `slack` keeps a figure learned near zero (a defection rate on
    the first days of a history) from allowing no movement at all.
    """

    below: float | None = None
    above: float | None = None
    slack: float = 0.0

    def band(self, value: float, absolute: Band) -> Band:
        low = None if self.below is None else value * self.below - self.slack
        high = None if self.above is None else value * self.above + self.slack
        return _clip(low, absolute), _clip(high, absolute)

    def describe(self) -> str:
        parts = []
        if self.below is not None:
            parts.append(f"at least x{self.below:g}")
        if self.above is not None:
            parts.append(f"at most x{self.above:g}")
        if self.slack:
            parts.append(f"+/- {self.slack:g}")
        return " ".join(parts) + " of the learned value"


def _clip(value: float | None, absolute: Band) -> float | None:
    if value is None:
        return None
    low, high = absolute
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def learned_between(
    ctx: SuiteContext,
    column: str,
    *,
    absolute: Band,
    blocking: Drift,
    warning: Drift | None = None,
) -> list[gxe.Expectation]:
    """Expectations on a one-row aggregated `column`: the `absolute` band (blocking, every run) and, once the
    company has a learned value for `column`, the `blocking` and `warning` drifts around it.

    A NULL value passes (GX leaves missing values out): a company without the data has no figure.
    """
    defined_at = caller_location()
    expectations = []
    if absolute != (None, None):
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=absolute[0],
                max_value=absolute[1],
                severity=ERROR,
                meta={FIGURE_KEY: column, "bound_origin": f"in {defined_at}"},
            )
        )
    learned = ctx.learned.get(column)
    if learned is None:
        return expectations
    for drift, severity in ((blocking, ERROR), (warning, WARNING)):
        if drift is None:
            continue
        low, high = drift.band(learned.value, absolute)
        if low is None and high is None:
            continue
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=low,
                max_value=high,
                severity=severity,
                meta={
                    FIGURE_KEY: column,
                    "learned_value": learned.value,
                    "bound_origin": f"{learned.origin()} (table {LEARNED_TABLE}); tolerance "
                    f"{drift.describe()} in {defined_at}",
                },
            )
        )
    return expectations


def caller_location() -> str:
    """`expectations/suites/<layer>/<suite>.py:<line>` of the suite line that declared a bound."""
    frame = sys._getframe(1)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        private = path.name.startswith("_") or frame.f_code.co_name.startswith("_")
        if "suites" in path.parts and not private:
            try:
                return f"{path.resolve().relative_to(_REPO_ROOT)}:{frame.f_lineno}"
            except ValueError:
                return f"{path}:{frame.f_lineno}"
        frame = frame.f_back
    return "expectations/suites"


def learned_columns(suite) -> dict[str, list[str]]:
    """{batch name: the learned figures (columns) it computes} for a suite."""
    columns: dict[str, list[str]] = {}
    for batch in suite.batches:
        for expectation in batch.expectations:
            figure = (expectation.meta or {}).get(FIGURE_KEY)
            if figure and figure not in columns.get(batch.name, []):
                columns.setdefault(batch.name, []).append(figure)
    return columns


def observe(con, suite) -> dict[str, float]:
    """The learned figures of a (bound) suite as its batches compute them now; NULL figures are left out.

    Read after the suite passed, to become the next run's learned values: one aggregate query per batch that
    holds learned figures (GX's BASIC result reports a passing value's counts, not the value).
    """
    figures: dict[str, float] = {}
    by_batch = learned_columns(suite)
    for batch in suite.batches:
        columns = by_batch.get(batch.name)
        if not columns:
            continue
        selected = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
        rows = con.execute(f"select {selected} from ({batch.sql}) as batch").fetchall()
        if len(rows) != 1:
            continue  # a figure is one aggregated row; anything else is not learned
        for column, value in zip(columns, rows[0], strict=True):
            if value is not None:
                figures[column] = float(value)
    return figures
