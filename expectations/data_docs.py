"""Make GX's data docs readable offline: no CDN, no JavaScript, no link to a page that was never written.

GX renders its data docs with Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega loaded from CDNs, and
its index page is an empty <table> that JavaScript fills from a data literal. Offline that is an unstyled page
with an empty table, and the suite links point at pages GX never writes here (the suites live in code, in
`expectations/suites/`, and validation runs in an ephemeral context). After every build, the pages GX
(re)wrote are rewritten so that they stand alone:

- every <script> and every stylesheet or image from the network is removed; the pages link one local
  stylesheet, `static/styles/offline.css` (written here), which styles the tables, cards and status icons
  Bootstrap and Font Awesome used to;
- the index's validation results are written into its table as plain rows, newest first, each linked to its
  validation page;
- a link to a local file that does not exist loses its href (the text stays).

Charts GX draws with Vega (none of this project's expectations has one) are not rendered offline. The
rewrite is idempotent (a marker comment at the top of the page), and a build rewrites only the index and
the pages it rendered. `python -m expectations.data_docs SITE_DIR` rewrites an existing site (e.g. one
built before this step existed); then open SITE_DIR/index.html in a browser.
"""

from __future__ import annotations

import argparse
import ast
import html
import logging
import os
import re
from pathlib import Path

# First line of a rewritten page (after the doctype), so a scan reads only the start of each file.
log = logging.getLogger(__name__)

MARKER = "<!-- data docs rewritten for offline reading by expectations/data_docs.py -->"
STYLESHEET = Path("static") / "styles" / "offline.css"

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.I | re.S)
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>", re.I | re.S)
_REMOTE_IMG = re.compile(r"<img\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>", re.I | re.S)
_LOCAL_REF = re.compile(r"\b(href|src)=\"(?![a-z][a-z0-9+.-]*:|#|//)([^\"#?]+)([^\"]*)\"", re.I)
_INDEX_TABLE = re.compile(r"(<table\b[^>]*ge-index-page-validation-results-table[^>]*>)\s*</table>", re.S)
_INDEX_TOOLBAR = re.compile(r"<div id=\"[^\"]*-table-toolbar\"[^>]*>.*?</div>", re.S)
_INDEX_COLUMNS = re.compile(r"^\s*columns: (\[.*\]),\s*$", re.M)
_INDEX_DATA = re.compile(r"^\s*data: (\[.*\]),\s*$", re.M)

OFFLINE_CSS = """/* Written by expectations/data_docs.py: what Bootstrap and Font Awesome from a CDN gave. */
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0; color: #212529;
       font-size: 14px; line-height: 1.45; }
a { color: #0b5cad; }
nav.navbar { border-bottom: 1px solid #dee2e6; padding: 6px 24px; height: auto !important; }
.container-fluid { padding: 16px 24px; }
.row { display: flex; flex-wrap: wrap; }
.col-lg-2, .col-md-2 { flex: 0 0 18%; max-width: 18%; padding-right: 16px; box-sizing: border-box; }
.col-lg-10, .col-md-10 { flex: 0 0 82%; max-width: 82%; box-sizing: border-box; }
.col-12, .col-xs-12 { flex: 0 0 100%; }
.col-6 { flex: 0 0 50%; }
.d-none, .invisible, .fixed-bottom, .close { display: none !important; }
.card { border: 1px solid #dee2e6; border-radius: 4px; margin-bottom: 16px; }
.card-header { background: #f7f7f9; border-bottom: 1px solid #dee2e6; padding: 8px 12px; }
.card-body { padding: 10px 12px; }
.alert { border: 1px solid #b8daff; background: #e8f1fb; border-radius: 4px; padding: 8px 12px;
         margin: 8px 0; }
.badge { display: inline-block; background: #6c757d; color: #fff; border-radius: 3px; padding: 1px 6px;
         font-size: 0.85em; }
table, .table { border-collapse: collapse; margin: 8px 0; width: 100%; }
th, td { border: 1px solid #dee2e6; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f0f0f4; }
.table-responsive { overflow-x: auto; }
.text-success { color: #1e7e34; }
.text-danger { color: #c82333; }
.fas::before { font-style: normal; font-weight: bold; }
.fa-check-circle::before { content: "\\2714"; }
.fa-times::before, .fa-times-circle::before { content: "\\2716"; }
.fa-question-circle::before { content: "?"; }
.fa-exclamation-triangle::before { content: "!"; }
.cooltip .top { display: none; }
.cooltip:hover .top { display: block; position: absolute; background: #fff; border: 1px solid #999;
                      padding: 6px; white-space: pre; z-index: 2; font-size: 12px; }
.cooltip { position: relative; }
.nav { list-style: none; padding-left: 0; }
.nav-link { display: block; padding: 2px 0; }
.tab-pane { display: block; }
.collapse, .fade { display: block; opacity: 1; }
.breadcrumb { list-style: none; display: flex; gap: 8px; padding: 0; }
.btn { display: inline-block; border: 1px solid #6c757d; border-radius: 3px; padding: 2px 8px; }
.sticky { position: sticky; top: 8px; }
.btn-group-toggle { display: none; }  /* the validation filter needs the scripts */
"""


def validation_page(site_dir: Path, key) -> Path:
    """The page GX renders for a validation result (a ValidationResultIdentifier): its key's parts as folders,
    the last part as the file name (GX's HtmlSiteStore layout)."""
    *folders, name = key.to_tuple()
    return site_dir.joinpath("validations", *folders, f"{name}.html")


def make_offline(site_dir: Path, pages: list[Path] | None = None) -> list[Path]:
    """Rewrite for offline reading the index and `pages` of `site_dir` (None: every page) that are not
    rewritten yet; returns the pages rewritten.

    A build passes the pages it rendered, so it does not scan the whole history; when one of them is not
    where it is expected (GX changed its layout), every page is scanned instead. A page still being written
    (no closing </html> yet) is left for the next call; a rewrite replaces the page atomically, so a reader
    or a concurrent call sees the page before or after, never half of it.
    """
    if not site_dir.is_dir():
        return []
    stylesheet = site_dir / STYLESHEET
    stylesheet.parent.mkdir(parents=True, exist_ok=True)
    if not stylesheet.exists() or stylesheet.read_text() != OFFLINE_CSS:
        stylesheet.write_text(OFFLINE_CSS)
    candidates = None if pages is None else [site_dir / "index.html", *pages]
    if candidates is not None and not all(page.exists() for page in candidates):
        log.warning("data docs pages not where expected under %s: rewriting every page", site_dir)
        candidates = None
    rewritten = []
    for page in site_dir.rglob("*.html") if candidates is None else candidates:
        with page.open(encoding="utf-8") as start:
            if MARKER in start.read(len(MARKER) + 64):
                continue
        text = page.read_text(encoding="utf-8")
        if "</html>" not in text[-200:].lower():
            continue
        temporary = page.with_name(f".{page.name}.{os.getpid()}.offline")
        temporary.write_text(rewrite_page(text, page, site_dir), encoding="utf-8")
        os.replace(temporary, page)
        rewritten.append(page)
    return rewritten


def rewrite_page(text: str, page: Path, site_dir: Path) -> str:
    """One page without network resources or scripts, with the local stylesheet and only working links."""
    if _INDEX_TABLE.search(text):
        text = _fill_index_table(text, page, site_dir)
    text = _SCRIPT.sub("", text)
    text = _REMOTE_LINK.sub("", text)
    text = _REMOTE_IMG.sub(lambda m: f'<span class="site-name">{_alt(m.group(0))}</span>', text)
    text = _LOCAL_REF.sub(lambda m: _local_ref(m, page), text)
    stylesheet = os.path.relpath(site_dir / STYLESHEET, page.parent)
    link = f'    <link rel="stylesheet" href="{stylesheet}">\n'
    text = text.replace("</head>", link + "  </head>", 1)
    doctype = re.match(r"\s*<!DOCTYPE[^>]*>", text, re.I)
    split = doctype.end() if doctype else 0
    return text[:split] + MARKER + text[split:]


def _alt(img_tag: str) -> str:
    match = re.search(r"\balt=\"([^\"]*)\"", img_tag)
    return match.group(1) if match else ""


def _local_ref(match: re.Match, page: Path) -> str:
    attribute, path, rest = match.groups()
    if (page.parent / html.unescape(path)).exists():
        return match.group(0)
    if attribute.lower() == "href":
        return 'title="not written to the data docs: the suites are defined in expectations/suites/"'
    return 'data-missing-src=""'


def _fill_index_table(text: str, page: Path, site_dir: Path) -> str:
    """The index's validation results as static rows (newest first), from the literal GX's script holds."""
    columns_match, data_match = _INDEX_COLUMNS.search(text), _INDEX_DATA.search(text)
    if not (columns_match and data_match):
        return text
    columns = ast.literal_eval(columns_match.group(1))
    rows = ast.literal_eval(data_match.group(1))
    rows.sort(key=lambda r: r.get("_run_time_sort", 0), reverse=True)
    head = "".join(f"<th>{html.escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    body = []
    for row in rows:
        link = row.get("_table_row_link_path")
        cells = []
        for column in columns:
            field = column["field"]
            if field == "validation_success":
                cell = f"{row.get(field, '')} {html.escape(str(row.get('_validation_success_text', '')))}"
            else:  # GX's sort key is the plain text of a cell it renders as HTML
                value = str(row.get(field, ""))
                cell = html.escape((str(row.get(f"_{field}_sort", value)) if "<" in value else value).strip())
            if field == "run_time" and link:
                cell = f'<a href="{html.escape(link, quote=True)}">{cell}</a>'
            cells.append(f"<td>{cell}</td>")
        body.append('<tr class="validation-result">' + "".join(cells) + "</tr>")
    table = f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
    text = _INDEX_TABLE.sub(lambda m: m.group(1) + table + "</table>", text, count=1)
    return _INDEX_TOOLBAR.sub("", text, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m expectations.data_docs", description=__doc__.split("\n")[0]
    )
    parser.add_argument("site_dir", type=Path, help="the data docs site (…/uncommitted/data_docs/local_site)")
    args = parser.parse_args(argv)
    pages = make_offline(args.site_dir)
    print(f"{len(pages)} pages rewritten for offline reading; open {args.site_dir / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
