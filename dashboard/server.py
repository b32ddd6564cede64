"""HTTP server of the dashboard (standard library only): routes, the shared layout and its inline CSS.

Each request opens the serving file read-only, renders one page and closes it, so a publication swapped in
between two requests is shown by the next one and a publication never waits for a reader.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from dashboard import pages
from dashboard.pages import PAGES, Filters, Page
from dashboard.serving import MissingMart, NoPublication, Publication, open_publication

log = logging.getLogger(__name__)

ROUTES: dict[str, Callable[[Publication, Filters], Page]] = {
    "/": pages.overview,
    "/matrix": pages.matrix_page,
    "/poor-experiences": pages.levels_page,
    "/silos": pages.silos_page,
    "/watchlist": pages.watchlist_page,
    "/stickiness": pages.stickiness_page,
    "/retention": pages.retention_page,
}

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0; color: #222; }
header { background: #223; color: #fff; padding: 10px 24px; }
header a { color: #cde; margin-right: 16px; text-decoration: none; }
header a.current { color: #fff; font-weight: bold; border-bottom: 2px solid #fff; }
header .brand { font-weight: bold; color: #fff; margin-right: 28px; }
main { padding: 12px 24px 40px; max-width: 1200px; }
.publication { color: #555; font-size: 0.9em; }
form.filters { background: #f4f4f7; padding: 8px 12px; border-radius: 4px; display: inline-block; }
form.filters label { margin-right: 12px; }
.note { background: #fff8e0; border-left: 4px solid #e0b000; padding: 6px 10px; }
.error { background: #fde8e8; border-left: 4px solid #d62728; padding: 10px 14px; }
table.data { border-collapse: collapse; font-size: 0.85em; margin: 12px 0; }
table.data th, table.data td { border: 1px solid #ddd; padding: 3px 7px; }
table.data th { background: #f0f0f4; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
svg.chart { font-size: 12px; max-width: 100%; height: auto; }
svg.chart text.value { font-size: 11px; }
figure { margin: 12px 0; }
figcaption { color: #555; font-size: 0.9em; }
.panels { display: flex; flex-wrap: wrap; gap: 12px; }
dl.profile { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; font-size: 0.9em; }
dl.profile dt { color: #555; }
dl.profile dd { margin: 0; }
.swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; }
"""


def render(title: str, content: str, path: str, published: str = "", filter_form: str = "") -> str:
    nav = "".join(
        f'<a href="{href}"{" class=current" if href == path else ""}>{escape(label)}</a>'
        for href, label in PAGES
    )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} · defection warehouse</title><style>{CSS}</style></head><body>"
        f'<header><a class="brand" href="/">Defection warehouse</a>{nav}</header>'
        f"<main><h1>{escape(title)}</h1>{published}{filter_form}{content}</main></body></html>"
    )


def _filter_form(pub: Publication, filters: Filters, path: str, applies: str) -> str:
    cohorts, regions = pages.filter_options(pub)
    if not cohorts and not regions:
        return pages.note("dim_customers carries no sign-up cohort and region: no filters.")

    def select(name: str, options: list[str], chosen: str | None) -> str:
        opts = "".join(
            f'<option value="{escape(o, quote=True)}"{" selected" if o == chosen else ""}>'
            f"{escape(o)}</option>"
            for o in options
        )
        return f'<label>{name} <select name="{name}"><option value="">all</option>{opts}</select></label>'

    return (
        f'<form class="filters" method="get" action="{path}">'
        f"{select('cohort', cohorts, filters.cohort)}{select('region', regions, filters.region)}"
        '<button type="submit">Apply</button> '
        f'<span class="applies">Filters apply here to: {escape(applies)}.</span>'
        "</form>"
    )


def respond(path: str, query: dict[str, list[str]], serving_dir: Path | None) -> tuple[int, str]:
    """Status and HTML of one request."""
    filters = Filters(
        cohort=(query.get("cohort") or [""])[0] or None, region=(query.get("region") or [""])[0] or None
    )
    if path not in ROUTES and path != "/customer":
        return HTTPStatus.NOT_FOUND, render(
            "Not found", pages.note(f"No page {escape(path)}.", "error"), path
        )
    try:
        with open_publication(serving_dir) as pub:
            published_at, source = pub.published_at()
            stamp = (
                f'<p class="publication">Publication of <time datetime="{published_at.isoformat()}" '
                f'data-source="{escape(source, quote=True)}">{published_at:%Y-%m-%d %H:%M:%S} UTC</time> '
                f"({escape(source)}), read from {escape(str(pub.path))}.</p>"
            )
            if path == "/customer":
                page = pages.customer_page(pub, filters, (query.get("id") or [""])[0])
            else:
                page = ROUTES[path](pub, filters)
            form = (
                _filter_form(pub, filters, path, page.filters_apply)
                if page.filters_apply
                else pages.note(
                    "This report is aggregated over all customers: the cohort and region filters "
                    "do not apply to it."
                )
                if path in dict(PAGES)
                else ""
            )
            return HTTPStatus.OK, render(page.title, page.body, path, stamp, form)
    except NoPublication as error:
        return HTTPStatus.SERVICE_UNAVAILABLE, render(
            "No publication yet", pages.note(escape(str(error)), "error no-publication"), path
        )
    except MissingMart as error:
        return HTTPStatus.SERVICE_UNAVAILABLE, render(
            "Mart missing", pages.note(escape(str(error)), "error missing-mart"), path
        )


def make_handler(serving_dir: Path | None):
    class Handler(BaseHTTPRequestHandler):
        server_version = "DefectionDashboard"

        def do_GET(self):  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            try:
                status, html = respond(url.path, parse_qs(url.query), serving_dir)
            except Exception:
                log.exception("page %s failed", self.path)
                status = HTTPStatus.INTERNAL_SERVER_ERROR
                html = render("Error", f'<pre class="error">{escape(traceback.format_exc())}</pre>', url.path)
            payload = html.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
            log.info("%s %s", self.address_string(), format % args)

    return Handler


def make_server(host: str, port: int, serving_dir: Path | None = None) -> ThreadingHTTPServer:
    """A server (not yet serving) for the publication in `serving_dir` (default: settings.serving_dir())."""
    server = ThreadingHTTPServer((host, port), make_handler(serving_dir))
    server.daemon_threads = True
    return server
