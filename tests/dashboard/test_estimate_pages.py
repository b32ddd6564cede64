"""The rate-by-level and stickiness pages on a hand-made publication holding every estimate_status: a bar with
its interval only where the report estimated a rate, the status in words elsewhere, bands in the published
stickiness_band_order. The pages are rendered by the server's own request handler (no browser needed)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from chart_checks import as_attr, assert_estimate_bar, assert_log_log_caption, plot_height
from chromium_dom import parse

from dashboard.server import respond

LEVEL_ROWS = [
    # level, label, reached, defected, next level, censored, at risk at horizon, full follow-up, status,
    # rate, lower, upper
    (0, "0", 900, 40, 300, 60, 500, 800, "estimated", 0.0512, 0.037, 0.066),
    (1, "1", 300, 45, 80, 25, 150, 260, "estimated", 0.1633, 0.121, 0.205),
    (2, "2", 1234, 3, 1, 1225, 5, 7, "insufficient_follow_up", None, None, None),
    (3, "3+", 0, 0, 0, 0, 0, 0, "no_customers", None, None, None),
]

STICKINESS_ROWS = [
    # had poor experience, band, band order, customers, defected, censored, full follow-up, status,
    # rate, lower, upper (bands stored out of order, and their names sort differently from their order)
    (True, "high", 3, 40, 2, 35, 5, "insufficient_follow_up", None, None, None),
    (False, "high", 3, 400, 8, 40, 350, "estimated", 0.021, 0.011, 0.038),
    (True, "low", 1, 200, 60, 20, 170, "estimated", 0.3102, 0.245, 0.377),
    (False, "low", 1, 600, 30, 50, 520, "estimated", 0.0525, 0.037, 0.073),
    (True, "medium", 2, 0, 0, 0, 0, "no_customers", None, None, None),
    (False, "medium", 2, 500, 15, 45, 430, "estimated", 0.0312, 0.019, 0.049),
]


@pytest.fixture
def serving_dir(tmp_path) -> Path:
    serving = tmp_path / "serving"
    serving.mkdir()
    with duckdb.connect(str(serving / "marts.duckdb")) as con:
        con.execute(
            """
            create table rpt_defection_rate_by_poor_experience_count (
                poor_experience_level integer, poor_experience_level_label varchar, customers_reached integer,
                customers_defected integer, customers_reached_next_level integer, customers_censored integer,
                customers_at_risk_at_horizon integer, customers_with_full_follow_up integer,
                estimate_status varchar, defection_rate double, defection_rate_ci_lower double,
                defection_rate_ci_upper double
            )
            """
        )
        con.executemany(
            "insert into rpt_defection_rate_by_poor_experience_count "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            LEVEL_ROWS,
        )
        con.execute(
            """
            create table rpt_defection_by_stickiness (
                had_poor_experience boolean, stickiness_band varchar, stickiness_band_order integer,
                customers integer, customers_defected integer, customers_censored integer,
                customers_with_full_follow_up integer, estimate_status varchar, defection_rate double,
                defection_rate_ci_lower double, defection_rate_ci_upper double
            )
            """
        )
        con.executemany(
            "insert into rpt_defection_by_stickiness values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            STICKINESS_ROWS,
        )
    return serving


def published(serving_dir: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(serving_dir / "marts.duckdb"), read_only=True) as con:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_levels_draw_estimated_rates_and_state_the_others(serving_dir):
    status, html = respond("/poor-experiences", {}, serving_dir)
    assert status == 200
    dom = parse(html)
    rows = published(
        serving_dir,
        "select * from rpt_defection_rate_by_poor_experience_count order by poor_experience_level",
    )
    svg = dom.one("svg", "rate-by-level")
    bars = svg.find_all("g", "bar")
    assert [b.data("poor_experience_level_label") for b in bars] == ["0", "1", "2", "3+"]
    for bar, row in zip(bars, rows, strict=True):
        assert_estimate_bar(bar, row, "customers_reached", plot_height(svg))
    assert len(svg.find_all("rect")) == len(svg.find_all("g", "error-bar")) == 2
    level_2 = dom.one("g", "bar", poor_experience_level_label="2")
    assert level_2.one("text", "status").text == (
        "insufficient follow-up: 1,234 reached, 1,225 still under follow-up"
    )
    assert dom.one("g", "bar", poor_experience_level_label="3+").one("text", "status").text == "no customers"
    assert_log_log_caption(dom)
    assert "Wilson" not in html


def test_stickiness_bands_follow_the_published_order_and_state_unestimated_rows(serving_dir):
    status, html = respond("/stickiness", {}, serving_dir)
    assert status == 200
    dom = parse(html)
    svg = dom.one("svg", "stickiness")
    assert [t.text for t in svg.find_all("text", "group")] == ["low", "medium", "high"]
    bars = svg.find_all("g", "bar")
    rows = published(serving_dir, "select * from rpt_defection_by_stickiness")
    assert len(bars) == len(rows)
    for row in rows:
        (bar,) = svg.find_all(
            "g",
            "bar",
            stickiness_band=row["stickiness_band"],
            had_poor_experience=as_attr(row["had_poor_experience"]),
        )
        assert_estimate_bar(bar, row, "customers", plot_height(svg), "censored")
    assert len(svg.find_all("g", "error-bar")) == 4
    high = svg.one("g", "bar", stickiness_band="high", had_poor_experience="true")
    assert high.one("text", "status").text == "insufficient follow-up: 40 reached, 35 still under follow-up"
    assert_log_log_caption(dom)
    assert "Wilson" not in html


def test_a_report_without_estimate_status_is_shown_as_a_table_with_the_reason(serving_dir):
    with duckdb.connect(str(serving_dir / "marts.duckdb")) as con:
        con.execute("alter table rpt_defection_rate_by_poor_experience_count drop column estimate_status")
    status, html = respond("/poor-experiences", {}, serving_dir)
    dom = parse(html)
    assert status == 200
    assert "has no column estimate_status" in dom.one("main").text
    assert not dom.find_all("svg")
    rows = dom.one("table", "rpt_defection_rate_by_poor_experience_count").one("tbody").find_all("tr")
    assert len(rows) == len(LEVEL_ROWS)
