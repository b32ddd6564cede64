"""The dashboard's pages: each reads the marts it shows from one open Publication and returns HTML.

Figures and column names come from the marts. Where a report is already aggregated over all customers, the
cohort and region filters cannot apply to it and the page says so. Where the dashboard can recompute a report
from the marts it is built from (the matrix from dim_customers, the silo counts from fct_defection_attribution
and fct_defections), it first checks that the recomputation over all customers equals the published report;
only then does it filter, otherwise it shows the published report unfiltered with a note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from dashboard import charts
from dashboard.charts import PALETTE, Bar, Series, percent
from dashboard.serving import Publication

# The z of rpt_hidden_defector_matrix's 95% Wilson intervals (macros/marts/wilson_interval.sql); used only for
# the matrix cells the dashboard recomputes under a filter. The level and stickiness reports carry
# censoring-aware estimates the dashboard shows as published and never recomputes.
WILSON_Z = 1.96

# Every table of the publication the pages read (declared as the dbt exposure answers_dashboard).
MARTS = (
    "rpt_hidden_defector_matrix",
    "rpt_defection_rate_by_poor_experience_count",
    "rpt_defections_by_silo",
    "rpt_silent_attrition_watchlist",
    "rpt_defection_by_stickiness",
    "rpt_cohort_retention",
    "dim_customers",
    "fct_journey_events",
    "fct_defections",
    "fct_defection_attribution",
)

PAGES = (
    ("/matrix", "Hidden defectors"),
    ("/poor-experiences", "Poor experiences"),
    ("/silos", "Silos"),
    ("/watchlist", "Watchlist"),
    ("/stickiness", "Stickiness"),
    ("/retention", "Cohort retention"),
)


@dataclass(frozen=True)
class Filters:
    """Sign-up cohort (YYYY-MM) and region chosen in the page's form; None = all."""

    cohort: str | None = None
    region: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.cohort or self.region)

    def describe(self) -> str:
        parts = [
            f"cohort {self.cohort}" if self.cohort else "",
            f"region {self.region}" if self.region else "",
        ]
        return ", ".join(p for p in parts if p) or "all customers"

    def query(self) -> str:
        return urlencode({k: v for k, v in (("cohort", self.cohort), ("region", self.region)) if v})


@dataclass
class Page:
    title: str
    body: str
    filters_apply: str | None = None  # what the filters do on this page; None = no filter form


# ---------------------------------------------------------------------------------------------- helpers


def wilson(successes: int, trials: int, z: float = WILSON_Z) -> tuple[float | None, float | None]:
    if not trials:
        return None, None
    p = successes / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return round((centre - spread) / denominator, 6), round((centre + spread) / denominator, 6)


def table(columns: list[str], rows: list[tuple], css_class: str, links: dict | None = None) -> str:
    """A plain HTML table of a query result; `links` maps a column to a function value -> href."""
    links = links or {}
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            text = escape(_cell_text(value))
            if column in links and value is not None:
                text = f'<a href="{escape(links[column](value), quote=True)}">{text}</a>'
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="data {css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def note(text: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{text}</p>'


RATE_COLUMNS = ("defection_rate", "defection_rate_ci_lower", "defection_rate_ci_upper")


def table_only(pub: Publication, mart: str, title: str, needed: tuple[str, ...]) -> Page | None:
    """When `mart` lacks a column its chart needs: a page with the published table and what is missing."""
    missing = [c for c in needed if c not in pub.columns(mart)]
    if not missing:
        return None
    result = pub.query(f"select * from {mart}")
    return Page(
        title,
        note(f"{mart} has no column {', '.join(missing)}: its chart cannot be drawn. The published table:")
        + table(result.columns, result.rows, mart),
    )


def _filter_sql(pub: Publication, filters: Filters, alias: str = "d") -> tuple[str, list]:
    """A where clause on dim_customers for the filters (true when none)."""
    clauses, params = ["true"], []
    if filters.cohort:
        clauses.append(f"strftime({alias}.signed_up_at, '%Y-%m') = ?")
        params.append(filters.cohort)
    if filters.region:
        clauses.append(f"{alias}.region = ?")
        params.append(filters.region)
    return " and ".join(clauses), params


def filters_available(pub: Publication) -> bool:
    return pub.has_columns("dim_customers", "customer_id", "signed_up_at", "region")


def filter_options(pub: Publication) -> tuple[list[str], list[str]]:
    """Sign-up cohorts and regions present in dim_customers."""
    if not filters_available(pub):
        return [], []
    cohorts = pub.query(
        "select distinct strftime(signed_up_at, '%Y-%m') as c from dim_customers "
        "where signed_up_at is not null order by c"
    ).rows
    regions = pub.query(
        "select distinct region from dim_customers where region is not null order by region"
    ).rows
    return [r[0] for r in cohorts], [r[0] for r in regions]


# ---------------------------------------------------------------------------------------------- overview


def overview(pub: Publication, filters: Filters) -> Page:
    rows = [(t, pub.query(f'select count(*) from "{t}"').rows[0][0]) for t in sorted(pub.tables)]
    links = "".join(f'<li><a href="{href}">{escape(label)}</a></li>' for href, label in PAGES)
    body = f'<ul class="page-links">{links}</ul><h2>Published tables</h2>' + table(
        ["table", "rows"], rows, "tables"
    )
    return Page("Answers", body)


# ---------------------------------------------------------------------------------------------- matrix

MATRIX = "rpt_hidden_defector_matrix"


def _matrix_from_dim_customers(pub: Publication, filters: Filters) -> dict[tuple, tuple[int, int]]:
    where, params = _filter_sql(pub, filters)
    result = pub.query(
        f"""
        select n_poor_experiences > 0, has_complained, count(*), count(*) filter (where has_defected)
        from dim_customers as d
        where {where}
        group by all
        """,
        params,
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in result.rows}


def matrix_page(pub: Publication, filters: Filters) -> Page:
    pub.require(MATRIX)
    if fallback := table_only(
        pub, MATRIX, "Hidden-defector matrix", ("customers", "customers_defected", *RATE_COLUMNS)
    ):
        return fallback
    published = pub.query(f"select * from {MATRIX} order by 1 desc, 2 desc")
    rows = published.dicts()
    row_key, col_key = published.columns[0], published.columns[1]
    notes = []
    if filters.active:
        if not (
            filters_available(pub)
            and pub.has_columns("dim_customers", "n_poor_experiences", "has_complained", "has_defected")
        ):
            notes.append(
                note("dim_customers lacks the columns to filter this matrix; shown for all customers.")
            )
        elif _matrix_from_dim_customers(pub, Filters()) != {
            (r[row_key], r[col_key]): (r["customers"], r["customers_defected"])
            for r in rows
            if r["customers"]
        }:
            notes.append(note(f"{MATRIX} cannot be reproduced from dim_customers; shown for all customers."))
        else:
            counts = _matrix_from_dim_customers(pub, filters)
            for r in rows:
                customers, defected = counts.get((r[row_key], r[col_key]), (0, 0))
                lower, upper = wilson(defected, customers)
                r.update(
                    customers=customers,
                    customers_defected=defected,
                    defection_rate=defected / customers if customers else None,
                    defection_rate_ci_lower=lower,
                    defection_rate_ci_upper=upper,
                )
            notes.append(
                note(
                    f"Filtered to {escape(filters.describe())}: counts from dim_customers, 95% Wilson "
                    "intervals "
                    "recomputed (the published report covers all customers)."
                )
            )
    cells = []
    hidden_key = next((c for c in published.columns if c.startswith("is_hidden")), None)
    for r in rows:
        lines = [f"{r['customers_defected']:,} of {r['customers']:,} defected"]
        lines.append(f"rate {percent(r['defection_rate'])}")
        if r["defection_rate_ci_lower"] is not None:
            lines.append(
                f"95% CI {percent(r['defection_rate_ci_lower'])} – {percent(r['defection_rate_ci_upper'])}"
            )
        if hidden_key and r[hidden_key]:
            lines.append(hidden_key)
        cells.append(
            {
                "row": f"{row_key} = {charts.attr(r[row_key])}",
                "col": f"{col_key} = {charts.attr(r[col_key])}",
                "lines": lines,
                "highlight": bool(hidden_key and r[hidden_key]),
                "shade": r["defection_rate"],
                "data": {k: r[k] for k in published.columns},
            }
        )
    row_labels = list(dict.fromkeys(c["row"] for c in cells))
    col_labels = list(dict.fromkeys(c["col"] for c in cells))
    svg = charts.matrix(cells, rows=row_labels, cols=col_labels, css_class="hidden-defector-matrix")
    body = (
        "".join(notes)
        + f"<figure>{svg}<figcaption>{MATRIX}: customers by {escape(row_key)} × {escape(col_key)} over "
        "their whole history, and how many defected; the outlined cell is the one hidden defectors come from."
        "</figcaption></figure>"
        + table(
            list(rows[0].keys()) if rows else published.columns, [tuple(r.values()) for r in rows], MATRIX
        )
    )
    return Page("Hidden-defector matrix", body, "cohort and region (recomputed from dim_customers)")


# ---------------------------------------------------------------------------------------------- rate by level

LEVELS = "rpt_defection_rate_by_poor_experience_count"


# What estimate_status says, in words; a status the dashboard does not know is shown as published.
STATUS_WORDS = {
    "estimated": "estimated",
    "insufficient_follow_up": "insufficient follow-up",
    "no_customers": "no customers",
}

ESTIMATE_CAPTION = (
    "defection_rate: cumulative incidence within the horizon (defection_horizon_days; censoring-aware), "
    "95% interval (log-log) from defection_rate_ci_lower to defection_rate_ci_upper as error bars. Only rows "
    "with estimate_status = estimated carry a rate; the others say why in place of a bar. Under follow-up: "
    "customers_censored, customers whose horizon is not over yet, counted for as long as they were followed."
)


def status_words(row: dict, count_key: str) -> tuple[str, ...]:
    """Why a row carries no rate, from its estimate_status and counts (lines of one sentence)."""
    status = row["estimate_status"]
    words = STATUS_WORDS.get(status, str(status).replace("_", " "))
    if status == "no_customers":
        return (words,)
    return (
        f"{words}: ",
        f"{row[count_key]:,} reached, ",
        f"{row['customers_censored']:,} still under follow-up",
    )


def _estimate_bars(
    rows: list[dict], label_key: str, count_key: str, color: str, censored_words: str = "under follow-up"
) -> list[Bar]:
    """One bar per report row: a bar with its interval where estimate_status = estimated, else the status in
    words; under every bar its customers and how many are still under follow-up (`censored_words`)."""
    bars = []
    for r in rows:
        reached, censored = r[count_key], r["customers_censored"]
        defected = r["customers_defected"]
        counts = f"{reached:,} reached, {defected:,} defected, {censored:,} still under follow-up"
        if r["estimate_status"] == "estimated" and r["defection_rate"] is not None:
            lower, upper = r["defection_rate_ci_lower"], r["defection_rate_ci_upper"]
            interval = f"95% interval {percent(lower)} – {percent(upper)}"
            bar = Bar(
                label=str(r[label_key]),
                value=r["defection_rate"],
                lower=lower,
                upper=upper,
                text=percent(r["defection_rate"]),
                tip=f"{percent(r['defection_rate'])}, {interval}; {counts}",
            )
        else:
            status = status_words(r, count_key)
            bar = Bar(label=str(r[label_key]), value=None, status=status, tip=f"{''.join(status)}; {counts}")
        bar.color = color
        bar.data = r
        bar.foot = (f"n={reached:,}", f"{censored:,} {censored_words}")
        bars.append(bar)
    return bars


LEVEL_COLUMNS = (
    "poor_experience_level",
    "poor_experience_level_label",
    "customers_reached",
    "customers_defected",
    "customers_censored",
    "estimate_status",
    *RATE_COLUMNS,
)


def levels_page(pub: Publication, filters: Filters) -> Page:
    pub.require(LEVELS)
    if fallback := table_only(pub, LEVELS, "Defection rate by number of poor experiences", LEVEL_COLUMNS):
        return fallback
    result = pub.query(f"select * from {LEVELS} order by poor_experience_level")
    rows = result.dicts()
    bars = _estimate_bars(rows, "poor_experience_level_label", "customers_reached", PALETTE[3])
    svg = charts.bar_chart(
        [(b.label, [b]) for b in bars], y_label="defection_rate", css_class="rate-by-level", y_max=1.0
    )
    body = (
        f"<figure>{svg}<figcaption>{LEVELS}: defection_rate by poor_experience_level_label, the "
        "probability of defecting after exactly that many poor experiences. "
        + ESTIMATE_CAPTION
        + " Under each level: n = customers_reached and customers_censored.</figcaption></figure>"
        + table(result.columns, result.rows, LEVELS)
    )
    return Page("Defection rate by number of poor experiences", body, None)


# ---------------------------------------------------------------------------------------------- silos

SILOS = "rpt_defections_by_silo"


def _silo_counts(pub: Publication, filters: Filters) -> dict[tuple[str, str], float]:
    where, params = _filter_sql(pub, filters)
    kept = f"select customer_id from dim_customers as d where {where}"
    result = pub.query(
        f"""
        with attribution as (
            select * from fct_defection_attribution where customer_id in ({kept})
        ), defections as (
            select * from fct_defections where customer_id in ({kept})
        )
        select 'last_touch', silo, cast(count(*) as double) from attribution where is_last_touch group by silo
        union all
        select 'first_touch', silo, cast(count(*) as double) from attribution where is_first_touch
        group by silo
        union all
        select 'even', silo, sum(even_weight) from attribution group by silo
        union all
        select 'stated', stated_silo, cast(count(*) as double) from defections group by stated_silo
        """,
        params * 2,
    )
    return {(r[0], r[1]): round(r[2], 6) for r in result.rows}


def silos_page(pub: Publication, filters: Filters) -> Page:
    pub.require(SILOS)
    if fallback := table_only(
        pub, SILOS, "Defections by silo", ("attribution_rule", "silo", "defections", "share_of_defections")
    ):
        return fallback
    result = pub.query(f"select * from {SILOS} order by attribution_rule, defections desc, silo")
    rows = result.dicts()
    notes = []
    if filters.active:
        published = {(r["attribution_rule"], r["silo"]): r["defections"] for r in rows if r["defections"]}
        if not (filters_available(pub) and {"fct_defection_attribution", "fct_defections"} <= pub.tables):
            notes.append(note("The facts to filter this report are not published; shown for all customers."))
        elif {k: v for k, v in _silo_counts(pub, Filters()).items() if v} != published:
            notes.append(note(f"{SILOS} cannot be reproduced from the fact tables; shown for all customers."))
        else:
            counts = _silo_counts(pub, filters)
            totals: dict[str, float] = {}
            for (rule, _), value in counts.items():
                totals[rule] = totals.get(rule, 0) + value
            for r in rows:
                value = counts.get((r["attribution_rule"], r["silo"]), 0.0)
                total = totals.get(r["attribution_rule"])
                r.update(defections=value, share_of_defections=round(value / total, 6) if total else None)
            rows.sort(key=lambda r: (r["attribution_rule"], -r["defections"], str(r["silo"])))
            notes.append(
                note(
                    f"Filtered to {escape(filters.describe())}: defections of those customers, from "
                    "fct_defection_attribution and fct_defections (the published report covers all "
                    "customers)."
                )
            )
    silos = sorted({r["silo"] for r in rows}, key=str)
    colors = {silo: PALETTE[i % len(PALETTE)] for i, silo in enumerate(silos)}
    panels = []
    for rule in dict.fromkeys(r["attribution_rule"] for r in rows):
        bars = [
            Bar(
                label=str(r["silo"]),
                value=r["defections"],
                text=f"{charts.number(r['defections'])} ({percent(r['share_of_defections'])})",
                color=colors[r["silo"]],
                data=r,
            )
            for r in rows
            if r["attribution_rule"] == rule
        ]
        svg = charts.hbar_chart(bars, x_label="defections", css_class="silo-panel", as_percent=False)
        panels.append(
            f'<figure class="panel" data-attribution-rule="{charts.attr(rule)}">'
            f"<figcaption>attribution_rule = {escape(rule)}</figcaption>{svg}</figure>"
        )
    body = (
        "".join(notes)
        + f'<div class="panels">{"".join(panels)}</div>'
        + f"<p>{SILOS}: defections attributed to each silo under each attribution_rule, with "
        "share_of_defections.</p>"
        + table(list(rows[0].keys()) if rows else result.columns, [tuple(r.values()) for r in rows], SILOS)
    )
    return Page("Defections by silo", body, "cohort and region (recomputed from the fact tables)")


# ---------------------------------------------------------------------------------------------- watchlist

WATCHLIST = "rpt_silent_attrition_watchlist"
WATCHLIST_ROWS = 50


def watchlist_page(pub: Publication, filters: Filters, limit: int = WATCHLIST_ROWS) -> Page:
    pub.require(WATCHLIST)
    if fallback := table_only(
        pub, WATCHLIST, "Silent-attrition watchlist", ("risk_rank", "customer_id", "risk_score")
    ):
        return fallback
    columns = pub.columns(WATCHLIST)
    where, params = _filter_sql(pub, filters) if filters.active and filters_available(pub) else ("true", [])
    join = "left join dim_customers as d on w.customer_id = d.customer_id" if where != "true" else ""
    total = pub.query(f"select count(*) from {WATCHLIST} as w {join} where {where}", params).rows[0][0]
    result = pub.query(
        f"select w.* from {WATCHLIST} as w {join} where {where} order by w.risk_rank limit ?",
        [*params, limit],
    )
    rows = result.dicts()
    above = next((c for c in columns if c.startswith("is_above")), None)
    bars = [
        Bar(
            label=f"#{r['risk_rank']} {r['customer_id']}",
            value=r["risk_score"],
            text=f"{r['risk_score']:.3f}",
            color=PALETTE[3] if above and r[above] else PALETTE[7],
            data={
                "risk_rank": r["risk_rank"],
                "customer_id": r["customer_id"],
                "risk_score": r["risk_score"],
            },
        )
        for r in rows[:20]
    ]
    svg = charts.hbar_chart(
        bars, x_label="risk_score", css_class="watchlist-risk", as_percent=False, width=620
    )
    scope = f" ({escape(filters.describe())})" if where != "true" else ""
    body = (
        f'<p class="count" data-total="{total}">{total:,} customers on {WATCHLIST}{scope}; '
        f"the first {min(limit, total):,} by risk_rank below, the first {len(bars)} drawn "
        f"({'red: ' + escape(above) if above else ''}). Select a customer to see their journey.</p>"
        f"<figure>{svg}</figure>"
        + table(result.columns, result.rows, WATCHLIST, links={"customer_id": _customer_href})
    )
    return Page("Silent-attrition watchlist", body, "cohort and region (watchlist joined to dim_customers)")


def _customer_href(customer_id) -> str:
    return "/customer?" + urlencode({"id": customer_id})


# ---------------------------------------------------------------------------------------------- customer

JOURNEY = "fct_journey_events"


def customer_page(pub: Publication, filters: Filters, customer_id: str) -> Page:
    pub.require("dim_customers", JOURNEY)
    customer = pub.query("select * from dim_customers where customer_id = ?", [customer_id])
    if not customer.rows:
        return Page(
            f"Customer {customer_id}", note(f"No customer {escape(customer_id)} in dim_customers.", "error")
        )
    columns = [c for c in pub.columns(JOURNEY) if not c.startswith("_")]
    quoted = ", ".join(f'"{c}"' for c in columns)
    events = pub.query(
        f"select {quoted}, epoch(occurred_at) as _t from {JOURNEY} "
        "where customer_id = ? order by event_sequence",
        [customer_id],
    )
    rows = events.dicts()
    lanes = list(dict.fromkeys(sorted(str(r["silo"]) for r in rows)))
    marks = [
        {
            "t": r["_t"],
            "lane": str(r["silo"]),
            "poor": bool(r.get("is_poor_experience")),
            "exit": r.get("stage") == "exit",
            "when": str(r["occurred_date"]),
            "label": f"{r['occurred_at']} {r['stage']} / {r['event_type']}: {r.get('description') or ''}",
            "data": {
                "event_sequence": r["event_sequence"],
                "event_type": r["event_type"],
                "silo": r["silo"],
                "is_poor_experience": r.get("is_poor_experience"),
            },
        }
        for r in rows
    ]
    svg = charts.timeline(marks, lanes=lanes, css_class="journey")
    profile = "".join(
        f"<dt>{escape(c)}</dt><dd>{escape(_cell_text(v))}</dd>"
        for c, v in zip(customer.columns, customer.rows[0], strict=True)
    )
    body = (
        f'<p><a href="/watchlist">← watchlist</a></p><dl class="profile">{profile}</dl>'
        f'<h2>Journey <span class="count" data-events="{len(rows)}">'
        f"({len(rows):,} events in {JOURNEY})</span></h2>"
        f"<figure>{svg}<figcaption>One lane per silo; red: is_poor_experience; diamond: stage = exit."
        "</figcaption></figure>" + table(columns, [tuple(r[c] for c in columns) for r in rows], JOURNEY)
    )
    return Page(f"Customer {customer_id}", body)


# ---------------------------------------------------------------------------------------------- stickiness

STICKINESS = "rpt_defection_by_stickiness"


STICKINESS_COLUMNS = (
    "had_poor_experience",
    "stickiness_band",
    "stickiness_band_order",
    "customers",
    "customers_defected",
    "customers_censored",
    "estimate_status",
    *RATE_COLUMNS,
)


def stickiness_page(pub: Publication, filters: Filters) -> Page:
    pub.require(STICKINESS)
    if fallback := table_only(pub, STICKINESS, "Defection by stickiness", STICKINESS_COLUMNS):
        return fallback
    result = pub.query(
        f"select * from {STICKINESS} "
        "order by stickiness_band_order, stickiness_band, had_poor_experience desc"
    )
    rows = result.dicts()
    flags = list(dict.fromkeys(r["had_poor_experience"] for r in rows))
    colors = {flag: PALETTE[3] if flag else PALETTE[0] for flag in flags}
    groups = []
    for band in dict.fromkeys(r["stickiness_band"] for r in rows):
        bars = []
        for r in rows:
            if r["stickiness_band"] == band:
                (bar,) = _estimate_bars(
                    [r], "had_poor_experience", "customers", colors[r["had_poor_experience"]], "censored"
                )
                bar.label = charts.attr(r["had_poor_experience"])
                bars.append(bar)
        groups.append((str(band), bars))
    svg = charts.bar_chart(
        groups, y_label="defection_rate", css_class="stickiness", y_max=1.0, height=360, width=900
    )
    legend = " ".join(
        f'<span class="swatch" style="background:{colors[f]}"></span>had_poor_experience = {charts.attr(f)}'
        for f in flags
    )
    body = (
        f"<figure>{svg}<figcaption>{STICKINESS}: defection_rate per stickiness_band (in "
        "stickiness_band_order), within the horizon of the first poor experience (true) or of the episode "
        "start before any poor experience (false). "
        + ESTIMATE_CAPTION
        + " Under each bar: n = customers and customers_censored (still under follow-up); "
        + f"{legend}.</figcaption></figure>"
        + table(result.columns, result.rows, STICKINESS)
    )
    return Page("Defection by stickiness", body, None)


# ---------------------------------------------------------------------------------------------- retention

RETENTION = "rpt_cohort_retention"


def retention_page(pub: Publication, filters: Filters) -> Page:
    pub.require(RETENTION)
    if fallback := table_only(
        pub,
        RETENTION,
        "Cohort retention",
        ("cohort_month", "months_since_sign_up", "cohort_customers", "share_active"),
    ):
        return fallback
    where, params = (
        ("strftime(cohort_month, '%Y-%m') = ?", [filters.cohort]) if filters.cohort else ("true", [])
    )
    result = pub.query(
        f"select * from {RETENTION} where {where} order by cohort_month, months_since_sign_up", params
    )
    rows = result.dicts()
    cohorts = list(dict.fromkeys(r["cohort_month"] for r in rows))
    sizes = {r["cohort_month"]: r["cohort_customers"] for r in rows}
    series = [
        Series(
            label=f"{cohort:%Y-%m} (n={sizes[cohort]:,})",
            points=[
                (r["months_since_sign_up"], r["share_active"]) for r in rows if r["cohort_month"] == cohort
            ],
            color=PALETTE[i % len(PALETTE)],
            data={"cohort_month": cohort},
        )
        for i, cohort in enumerate(cohorts)
    ]
    svg = charts.line_chart(
        series,
        x_label="months_since_sign_up",
        y_label="share_active",
        css_class="retention",
        height=max(360, 40 + 14 * len(series)),
    )
    months = sorted({r["months_since_sign_up"] for r in rows})
    share = {(r["cohort_month"], r["months_since_sign_up"]): r["share_active"] for r in rows}
    pivot_rows = [
        (f"{c:%Y-%m}", *(percent(share[(c, m)]) if (c, m) in share else "" for m in months)) for c in cohorts
    ]
    notes = note(f"Filtered to cohort {escape(filters.cohort)}.") if filters.cohort else ""
    if filters.region:
        notes += note(f"{RETENTION} carries no region: the region filter does not apply to this report.")
    body = (
        notes
        + f"<figure>{svg}<figcaption>{RETENTION}: share_active of each cohort_month by months_since_sign_up "
        "(survival curves).</figcaption></figure>"
        + table(["cohort_month", *(str(m) for m in months)], pivot_rows, "retention-pivot")
    )
    return Page("Cohort retention", body, "cohort only (the report carries no region)")
