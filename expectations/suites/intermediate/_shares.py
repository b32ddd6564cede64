"""Helpers shared by the intermediate suites (private: the registry skips modules starting with `_`)."""

from __future__ import annotations

import great_expectations.expectations as gxe

from expectations.suite import ERROR, WARNING

Band = tuple[float | None, float | None]


def share_in_set(column: str, value_set: list, bounds: tuple[float, float]) -> list[gxe.Expectation]:
    """`column` in `value_set` for at least bounds[0] of the rows (blocking) and bounds[1] (warning).

    GX computes the share in DuckDB (`mostly`); an empty batch passes, there being nothing to judge.
    """
    blocking, warning = bounds
    return [
        gxe.ExpectColumnValuesToBeInSet(column=column, value_set=value_set, mostly=blocking, severity=ERROR),
        gxe.ExpectColumnValuesToBeInSet(column=column, value_set=value_set, mostly=warning, severity=WARNING),
    ]


def between(column: str, blocking: Band | None = None, warning: Band | None = None) -> list[gxe.Expectation]:
    """An aggregated `column` within the `blocking` band (error) and within the tighter `warning` band.

    A band is (min, max), either end None for open; a band left out adds no expectation. A NULL value (an
    empty table, a share with nothing to count) passes: GX ignores missing values.
    """
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=column, min_value=band[0], max_value=band[1], severity=severity
        )
        for band, severity in ((blocking, ERROR), (warning, WARNING))
        if band is not None
    ]
