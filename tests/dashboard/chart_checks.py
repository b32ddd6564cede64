"""Checks of the dashboard's charts against the published figures (shared by the browser and page tests)."""

from __future__ import annotations

import pytest
from chromium_dom import Node

from dashboard.charts import percent


def as_attr(value) -> str:
    """A published value as the dashboard writes it into a data-* attribute."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def plot_height(svg: Node) -> float:
    """The height of a bar chart's plot area: the length of its y axis (the chart's first line)."""
    axis = svg.find_all("line")[0]
    return float(axis.attrs["y2"]) - float(axis.attrs["y1"])


def assert_estimate_bar(
    bar: Node, row: dict, count_key: str, height: float, censored_words: str = "under follow-up"
):
    """A bar carries the row's published figures; it is drawn with its interval only where estimate_status =
    estimated, otherwise it states the status and the counts in words; under it, the customers and how many
    are still under follow-up (`censored_words`)."""
    for column in (
        "estimate_status",
        count_key,
        "customers_defected",
        "customers_censored",
        "defection_rate",
        "defection_rate_ci_lower",
        "defection_rate_ci_upper",
    ):
        assert bar.data(column) == as_attr(row[column]), column
    tooltip = bar.one("title").text
    assert (
        f"{row[count_key]:,} reached, {row['customers_defected']:,} defected, "
        f"{row['customers_censored']:,} still under follow-up" in tooltip
    )
    foot = [t.text for t in bar.find_all("text", "foot")]
    assert foot == [f"n={row[count_key]:,}", f"{row['customers_censored']:,} {censored_words}"]
    if row["estimate_status"] != "estimated":
        assert not bar.find_all("rect") and not bar.find_all("g", "error-bar")
        assert not bar.find_all("text", "value")
        status = bar.one("text", "status").text
        if row["estimate_status"] == "insufficient_follow_up":
            assert status == (
                f"insufficient follow-up: {row[count_key]:,} reached, "
                f"{row['customers_censored']:,} still under follow-up"
            )
        else:
            assert status == row["estimate_status"].replace("_", " ")
        return
    assert not bar.find_all("text", "status")
    lower, upper = percent(row["defection_rate_ci_lower"]), percent(row["defection_rate_ci_upper"])
    assert f"{percent(row['defection_rate'])}, 95% interval {lower} – {upper}" in tooltip
    assert bar.one("text", "value").text == percent(row["defection_rate"])
    rect = bar.one("rect")
    assert float(rect.attrs["height"]) == pytest.approx(height * row["defection_rate"], abs=0.11)
    lines = bar.one("g", "error-bar").find_all("line")
    ys = sorted(float(v) for line in lines for v in (line.attrs["y1"], line.attrs["y2"]))
    bottom = float(rect.attrs["y"]) + float(rect.attrs["height"])
    assert bottom - ys[0] == pytest.approx(height * row["defection_rate_ci_upper"], abs=0.11)
    assert bottom - ys[-1] == pytest.approx(height * row["defection_rate_ci_lower"], abs=0.11)


def assert_log_log_caption(dom: Node):
    caption = dom.one("figcaption").text
    assert "cumulative incidence within the horizon" in caption and "95% interval (log-log)" in caption
    assert "Wilson" not in caption
