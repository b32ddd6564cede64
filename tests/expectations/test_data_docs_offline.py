"""GX data docs built by the gates read offline: no CDN resource, no script, every local link resolves, and
index lists every validation result as a plain table row linked to its page."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from expectations.__main__ import main
from expectations.data_docs import MARKER, STYLESHEET, make_offline

pytestmark = pytest.mark.slow


class _Refs(HTMLParser):
    """Every tag with its attributes, and the validation-result rows of an index."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.rows: list[list[str]] = []  # hrefs inside each <tr class="validation-result">
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag == "tr" and "validation-result" in attributes.get("class", ""):
            self._row = []
            self.rows.append(self._row)
        elif tag == "a" and self._row is not None and "href" in attributes:
            self._row.append(attributes["href"])

    def handle_endtag(self, tag):
        if tag == "tr":
            self._row = None


def _parse(page: Path) -> _Refs:
    refs = _Refs()
    refs.feed(page.read_text(encoding="utf-8"))
    return refs


def _assert_offline(site: Path):
    pages = list(site.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert MARKER in text[:200], f"{page} was not rewritten"
        refs = _parse(page)
        for tag, attributes in refs.tags:
            assert tag != "script", f"{page} keeps a script"
            if tag in ("link", "img", "source", "iframe"):
                for name in ("href", "src"):
                    value = attributes.get(name, "")
                    assert not re.match(r"(https?:)?//", value), (
                        f"{page}: <{tag} {name}={value}> needs the network"
                    )
            for name in ("href", "src"):
                value = attributes.get(name)
                if value is None or re.match(r"[a-z][a-z0-9+.-]*:|#", value):
                    continue
                target = (page.parent / value.split("#")[0].split("?")[0]).resolve()
                assert target.exists(), f"{page}: {name}={value} points at a missing file"
        stylesheets = [a["href"] for t, a in refs.tags if t == "link" and "stylesheet" in a.get("rel", "")]
        assert stylesheets, f"{page} has no stylesheet"
        assert (page.parent / stylesheets[-1]).resolve() == (site / STYLESHEET).resolve()


def test_data_docs_of_the_gates_read_offline(built_warehouse, tmp_path, capsys, caplog):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, warehouse)
    gx_dir = tmp_path / "gx"
    # Two workers render their pages and the parent builds the index; a second run adds its results.
    for _ in range(2):
        assert (
            main(["--warehouse", str(warehouse), "--gx-dir", str(gx_dir), "--layer", "marts", "--jobs", "2"])
            == 0
        )
    output = capsys.readouterr().out
    # the build found every page it rendered where GX puts it, so it did not fall back to a full scan
    assert "not where expected" not in caplog.text
    index = Path(re.search(r"data docs: (\S+)", output).group(1))
    site = index.parent
    _assert_offline(site)

    results = sorted(p.relative_to(site).as_posix() for p in (site / "validations").rglob("*.html"))
    rows = _parse(index).rows
    assert len(rows) == len(results) > 0
    assert sorted(href for row in rows for href in row) == results
    for row in rows:
        page = (site / row[0]).read_text(encoding="utf-8")
        assert "Expectation Validation Result" in page

    # Idempotent: a second pass finds nothing to rewrite and leaves every page as it was.
    before = {p: p.read_bytes() for p in site.rglob("*.html")}
    assert make_offline(site) == []
    assert {p: p.read_bytes() for p in site.rglob("*.html")} == before
