"""The dashboard in a real browser: the small company is built, published with the public publish function,
served by `python -m dashboard`, and every page is rendered by headless Chromium. Each chart's marks must
carry and draw the figures a query on the serving file returns."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import pytest
from chart_checks import as_attr, assert_estimate_bar, assert_log_log_caption, plot_height
from chromium_dom import Node, dump_dom, parse

from dashboard.charts import percent
from orchestration.publication import publish_marts
from settings import REPO_ROOT

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_S = 60


class Dashboard:
    """`python -m dashboard` on a free port, serving `serving_dir`."""

    def __init__(self, serving_dir: Path):
        self.serving_dir = serving_dir
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "--port", "0", "--serving-dir", str(serving_dir)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self._first_line()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, f"dashboard did not start: {line!r}"
        self.base = f"http://127.0.0.1:{match.group(1)}"

    def _first_line(self) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(STARTUP_TIMEOUT_S)
        return result[0] if result else ""

    def url(self, path: str, **query) -> str:
        return self.base + path + ("?" + urlencode(query) if query else "")

    def get(self, path: str, **query) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url(path, **query), timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def serving_dir(built_warehouse, tmp_path_factory) -> Path:
    serving = tmp_path_factory.mktemp("dashboard") / "serving"
    publish_marts(built_warehouse, serving)
    return serving


@pytest.fixture(scope="module")
def dashboard(serving_dir):
    server = Dashboard(serving_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def marts(serving_dir):
    """A query on the serving file itself (read-only), for the expected figures."""
    con = duckdb.connect(str(serving_dir / "marts.duckdb"), read_only=True)

    def query(sql: str, params: list | None = None) -> list[dict]:
        cursor = con.execute(sql, params or [])
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    yield query
    con.close()


def published_at(serving: Path) -> datetime:
    """publication_info.published_at of the publication `serving` holds now, in UTC."""
    with duckdb.connect(str(serving / "marts.duckdb"), read_only=True) as con:
        (value,) = con.execute("select published_at from publication_info").fetchone()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def page(dashboard: Dashboard, path: str, **query) -> Node:
    return parse(dump_dom(dashboard.url(path, **query)))


def assert_offline(dom: Node):
    """Nothing on the page is fetched from another host: no scripts, no stylesheets, only local links."""
    assert not dom.find_all("script"), "the dashboard ships no JavaScript"
    assert not [n for n in dom.find_all("link") if "stylesheet" in n.attrs.get("rel", "")]
    for node in dom.find_all():
        for name in ("src", "href"):
            value = node.attrs.get(name)
            if value is not None:
                assert value.startswith(("/", "#", "?")), (
                    f"<{node.tag} {name}={value!r}> leaves the dashboard"
                )


def test_matrix_draws_every_cell_of_the_published_matrix(dashboard, marts):
    dom = page(dashboard, "/matrix")
    assert_offline(dom)
    rows = marts("select * from rpt_hidden_defector_matrix")
    cells = dom.one("svg", "hidden-defector-matrix").find_all("g", "cell")
    assert len(cells) == len(rows) == 4
    for row in rows:
        (cell,) = [
            c
            for c in cells
            if c.data("had_poor_experience") == as_attr(row["had_poor_experience"])
            and c.data("has_complained") == as_attr(row["has_complained"])
        ]
        for column, value in row.items():
            assert cell.data(column) == as_attr(value), column
        assert f"{row['customers_defected']:,} of {row['customers']:,} defected" in cell.text
        assert f"rate {percent(row['defection_rate'])}" in cell.text
        if row["customers"]:
            assert f"95% CI {percent(row['defection_rate_ci_lower'])}" in cell.text
        outlined = cell.one("rect").attrs["stroke-width"] == "3"
        assert outlined == row["is_hidden_defector_cell"]


def test_rate_by_poor_experience_count_draws_the_published_estimates(dashboard, marts):
    dom = page(dashboard, "/poor-experiences")
    assert_offline(dom)
    rows = marts("select * from rpt_defection_rate_by_poor_experience_count order by poor_experience_level")
    svg = dom.one("svg", "rate-by-level")
    bars = svg.find_all("g", "bar")
    assert [b.data("poor_experience_level_label") for b in bars] == [
        r["poor_experience_level_label"] for r in rows
    ]
    for bar, row in zip(bars, rows, strict=True):
        assert_estimate_bar(bar, row, "customers_reached", plot_height(svg))
    assert any(row["estimate_status"] == "estimated" and row["defection_rate"] for row in rows), (
        "the small company has an estimated level with defections"
    )
    assert len(svg.find_all("g", "error-bar")) == sum(r["estimate_status"] == "estimated" for r in rows)
    assert_log_log_caption(dom)
    assert "do not apply" in dom.one("main").text


def test_silo_panels_show_every_rule_and_silo(dashboard, marts):
    dom = page(dashboard, "/silos")
    assert_offline(dom)
    rows = marts("select * from rpt_defections_by_silo")
    panels = dom.find_all("figure", "panel")
    assert sorted(p.attrs["data-attribution-rule"] for p in panels) == sorted(
        {r["attribution_rule"] for r in rows}
    )
    drawn = 0
    for panel in panels:
        rule = panel.attrs["data-attribution-rule"]
        bars = panel.find_all("g", "bar")
        expected = {r["silo"]: r for r in rows if r["attribution_rule"] == rule}
        assert {b.data("silo") for b in bars} == set(expected)
        widths = {}
        for bar in bars:
            row = expected[bar.data("silo")]
            assert bar.data("defections") == as_attr(row["defections"])
            assert bar.data("share_of_defections") == as_attr(row["share_of_defections"])
            assert percent(row["share_of_defections"]) in bar.one("text", "value").text
            widths[bar.data("silo")] = float(bar.one("rect").attrs["width"])
            drawn += 1
        # bar lengths are proportional to the defections
        biggest = max(expected, key=lambda s: expected[s]["defections"])
        for silo, width in widths.items():
            assert width == pytest.approx(
                widths[biggest] * expected[silo]["defections"] / expected[biggest]["defections"], abs=0.11
            )
    assert drawn == len(rows)


def test_watchlist_lists_the_published_ranking_and_links_each_journey(dashboard, marts):
    dom = page(dashboard, "/watchlist")
    assert_offline(dom)
    (total,) = marts("select count(*) as n from rpt_silent_attrition_watchlist")
    assert total["n"] > 0, "the small company has customers on the watchlist"
    assert dom.one("p", "count").data("total") == str(total["n"])
    expected = marts("select * from rpt_silent_attrition_watchlist order by risk_rank limit 50")
    table = dom.one("table", "rpt_silent_attrition_watchlist")
    headers = [th.text for th in table.find_all("th")]
    assert headers == list(expected[0].keys())
    body_rows = table.one("tbody").find_all("tr")
    assert [tr.find_all("td")[headers.index("customer_id")].text for tr in body_rows] == [
        r["customer_id"] for r in expected
    ]
    links = [a.attrs["href"] for a in table.find_all("a")]
    assert links == ["/customer?" + urlencode({"id": r["customer_id"]}) for r in expected]
    bars = dom.one("svg", "watchlist-risk").find_all("g", "bar")
    assert [(b.data("customer_id"), b.data("risk_score")) for b in bars] == [
        (r["customer_id"], as_attr(r["risk_score"])) for r in expected[:20]
    ]


def test_drill_down_shows_one_customers_whole_journey(dashboard, marts):
    (top,) = marts("select customer_id from rpt_silent_attrition_watchlist where risk_rank = 1")
    events = marts(
        "select * from fct_journey_events where customer_id = ? order by event_sequence", [top["customer_id"]]
    )
    assert events
    dom = page(dashboard, "/customer", id=top["customer_id"])
    assert_offline(dom)
    assert dom.one("span", "count").data("events") == str(len(events))
    marks = dom.one("svg", "journey").find_all("g", "event")
    assert [(m.data("event_sequence"), m.data("event_type"), m.data("silo")) for m in marks] == [
        (str(e["event_sequence"]), e["event_type"], e["silo"]) for e in events
    ]
    poor = [m for m in marks if m.data("is_poor_experience") == "true"]
    assert len(poor) == sum(1 for e in events if e["is_poor_experience"])
    assert len(poor) > 0, "a watchlist customer has recent poor experiences"
    rows = dom.one("table", "fct_journey_events").one("tbody").find_all("tr")
    assert len(rows) == len(events)
    (customer,) = marts("select * from dim_customers where customer_id = ?", [top["customer_id"]])
    profile = dom.one("dl", "profile")
    assert [dt.text for dt in profile.find_all("dt")] == list(customer.keys())


def test_stickiness_bars_per_band_draw_the_published_estimates(dashboard, marts):
    dom = page(dashboard, "/stickiness")
    assert_offline(dom)
    rows = marts("select * from rpt_defection_by_stickiness")
    svg = dom.one("svg", "stickiness")
    bars = svg.find_all("g", "bar")
    assert len(bars) == len(rows)
    for row in rows:
        (bar,) = [
            b
            for b in bars
            if b.data("stickiness_band") == row["stickiness_band"]
            and b.data("had_poor_experience") == as_attr(row["had_poor_experience"])
        ]
        assert_estimate_bar(bar, row, "customers", plot_height(svg), "censored")
    assert len(svg.find_all("g", "error-bar")) == sum(r["estimate_status"] == "estimated" for r in rows)
    # bands left to right in the published stickiness_band_order
    order = marts(
        "select stickiness_band from rpt_defection_by_stickiness "
        "group by all order by min(stickiness_band_order)"
    )
    assert [t.text for t in svg.find_all("text", "group")] == [r["stickiness_band"] for r in order]
    assert_log_log_caption(dom)


def test_retention_draws_one_survival_curve_per_cohort(dashboard, marts):
    dom = page(dashboard, "/retention")
    assert_offline(dom)
    rows = marts("select * from rpt_cohort_retention order by cohort_month, months_since_sign_up")
    series = dom.one("svg", "retention").find_all("g", "series")
    cohorts = sorted({r["cohort_month"] for r in rows})
    assert [s.data("cohort_month") for s in series] == [str(c) for c in cohorts]
    for curve, cohort in zip(series, cohorts, strict=True):
        expected = ";".join(
            f"{r['months_since_sign_up']}:{as_attr(r['share_active'])}"
            for r in rows
            if r["cohort_month"] == cohort
        )
        assert curve.data("points") == expected
        assert len(curve.one("polyline").attrs["points"].split()) == expected.count(";") + 1


def test_filters_by_region_and_cohort_recompute_from_the_marts(dashboard, marts):
    (region,) = marts(
        "select region from dim_customers where region is not null group by 1 order by count(*) desc limit 1"
    )
    region = region["region"]
    expected = {
        (r["p"], r["c"]): (r["n"], r["d"])
        for r in marts(
            "select n_poor_experiences > 0 as p, has_complained as c, count(*) as n, "
            "sum(has_defected::int) as d from dim_customers where region = ? group by all",
            [region],
        )
    }
    dom = page(dashboard, "/matrix", region=region)
    cells = dom.one("svg", "hidden-defector-matrix").find_all("g", "cell")
    drawn = {
        (c.data("had_poor_experience") == "true", c.data("has_complained") == "true"): (
            int(c.data("customers")),
            int(c.data("customers_defected")),
        )
        for c in cells
        if c.data("customers") != "0"
    }
    assert drawn == expected
    (in_region,) = marts("select count(*) as n from dim_customers where region = ?", [region])
    assert (
        sum(n for n, _ in drawn.values())
        == in_region["n"]
        < marts("select count(*) as n from dim_customers")[0]["n"]
    )
    assert f"Filtered to region {region}" in dom.one("main").text

    silos = page(dashboard, "/silos", region=region)
    (stated,) = marts(
        "select count(*) as n from fct_defections join dim_customers using (customer_id) where region = ?",
        [region],
    )
    stated_bars = silos.one("figure", "panel", attribution_rule="stated").find_all("g", "bar")
    assert sum(float(b.data("defections")) for b in stated_bars) == stated["n"]

    watch = page(dashboard, "/watchlist", region=region)
    ids = [a.text for a in watch.one("table", "rpt_silent_attrition_watchlist").find_all("a")]
    expected_ids = marts(
        "select w.customer_id from rpt_silent_attrition_watchlist w join dim_customers d using (customer_id) "
        "where d.region = ? order by w.risk_rank limit 50",
        [region],
    )
    assert ids == [r["customer_id"] for r in expected_ids]

    (cohort,) = marts("select min(cohort_month) as c from rpt_cohort_retention")
    month = f"{cohort['c']:%Y-%m}"
    retention = page(dashboard, "/retention", cohort=month)
    assert [s.data("cohort_month") for s in retention.find_all("g", "series")] == [str(cohort["c"])]
    matrix = page(dashboard, "/matrix", cohort=month)
    (members,) = marts(
        "select count(*) as n from dim_customers where strftime(signed_up_at, '%Y-%m') = ?", [month]
    )
    assert sum(int(c.data("customers")) for c in matrix.find_all("g", "cell")) == members["n"]


def test_pages_show_when_the_publication_was_made(dashboard, serving_dir):
    dom = page(dashboard, "/")
    stamp = dom.one("time")
    assert stamp.attrs["data-source"] == "publication_info.published_at"
    assert datetime.fromisoformat(stamp.attrs["datetime"]) == published_at(serving_dir)
    links = {a.attrs["href"] for a in dom.one("ul", "page-links").find_all("a")}
    assert links == {"/matrix", "/poor-experiences", "/silos", "/watchlist", "/stickiness", "/retention"}


def test_no_publication_gives_a_clear_message_then_a_publication_is_served_without_restart(
    built_warehouse, tmp_path
):
    serving = tmp_path / "serving"
    server = Dashboard(serving)
    try:
        dom = parse(dump_dom(server.url("/matrix")))
        message = dom.one("p", "no-publication").text
        assert "No publication yet" in message and str(serving / "marts.duckdb") in message
        assert server.get("/matrix")[0] == 503

        publish_marts(built_warehouse, serving)
        dom = parse(dump_dom(server.url("/matrix")))
        assert len(dom.one("svg", "hidden-defector-matrix").find_all("g", "cell")) == 4

        # publishing again while readers keep requesting pages: every request is answered from a whole
        # publication (the old or the new), and the next one after the swap shows the new publication
        statuses: Counter = Counter()
        stop = threading.Event()

        def read():
            while not stop.is_set():
                for path in ("/matrix", "/silos", "/retention"):
                    status, html = server.get(path)
                    statuses[status, "Publication of" in html and "Traceback" not in html] += 1

        readers = [threading.Thread(target=read) for _ in range(3)]
        for reader in readers:
            reader.start()
        try:
            before = os.stat(serving / "marts.duckdb").st_ino
            publish_marts(built_warehouse, serving)
            time.sleep(0.5)
        finally:
            stop.set()
            for reader in readers:
                reader.join()
        assert os.stat(serving / "marts.duckdb").st_ino != before
        assert set(statuses) == {(200, True)} and statuses[200, True] > 3
        stamp = parse(dump_dom(server.url("/"))).one("time")
        assert datetime.fromisoformat(stamp.attrs["datetime"]) == published_at(serving)
    finally:
        server.stop()


def test_a_publication_without_publication_info_is_dated_by_its_file(serving_dir, tmp_path):
    """A serving file without publication_info (made by another tool) is dated by its modification time."""
    import shutil

    from dashboard.server import respond

    copy = tmp_path / "serving"
    copy.mkdir()
    shutil.copy(serving_dir / "marts.duckdb", copy / "marts.duckdb")
    con = duckdb.connect(str(copy / "marts.duckdb"))
    con.execute("drop table if exists publication_info")
    con.close()
    status, html = respond("/", {}, copy)
    assert status == 200
    stamp = parse(html).one("time")
    assert stamp.attrs["data-source"] == "modification time of the serving file"
    mtime = datetime.fromtimestamp((copy / "marts.duckdb").stat().st_mtime, UTC)
    assert datetime.fromisoformat(stamp.attrs["datetime"]) == mtime


def test_recomputed_wilson_intervals_equal_the_published_ones(marts):
    """Filtered matrix cells get their interval from dashboard.pages.wilson: the figures of the matrix's
    macro."""
    from dashboard.pages import wilson

    rows = marts("select * from rpt_hidden_defector_matrix")
    assert any(r["customers"] for r in rows)
    for row in rows:
        assert wilson(row["customers_defected"], row["customers"]) == (
            row["defection_rate_ci_lower"],
            row["defection_rate_ci_upper"],
        )


def test_a_reader_still_open_on_the_old_publication_does_not_hide_the_new_one(built_warehouse, tmp_path):
    """A request that started before a swap finishes on the old file; the next request reads the new one,
    even while the old one is still open in the same process."""
    import shutil

    from dashboard.serving import open_publication

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    serving = tmp_path / "serving"
    publish_marts(warehouse, serving)
    count = "select count(*) from rpt_cohort_retention"
    with open_publication(serving) as old:
        (before,) = old.query(count).rows
        with duckdb.connect(str(warehouse)) as con:
            con.execute("delete from marts.rpt_cohort_retention where months_since_sign_up > 0")
        publish_marts(warehouse, serving)
        with open_publication(serving) as new:
            (after,) = new.query(count).rows
            assert after < before
            assert old.query(count).rows == [before]
            stamp, _ = new.published_at()
            assert stamp == published_at(serving)


def test_a_report_without_a_column_its_chart_needs_is_shown_as_a_table_with_the_reason(serving_dir, tmp_path):
    import shutil

    from dashboard.server import respond

    copy = tmp_path / "serving"
    copy.mkdir()
    shutil.copy(serving_dir / "marts.duckdb", copy / "marts.duckdb")
    with duckdb.connect(str(copy / "marts.duckdb")) as con:
        con.execute("alter table rpt_defection_by_stickiness drop column defection_rate_ci_upper")
        rows = con.execute("select count(*) from rpt_defection_by_stickiness").fetchone()[0]
    status, html = respond("/stickiness", {}, copy)
    dom = parse(html)
    assert status == 200
    assert "has no column defection_rate_ci_upper" in dom.one("main").text
    assert not dom.find_all("svg")
    assert len(dom.one("table", "rpt_defection_by_stickiness").one("tbody").find_all("tr")) == rows
