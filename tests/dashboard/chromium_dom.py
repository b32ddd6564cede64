"""Headless Chromium (Debian package `chromium`) for the dashboard tests, and a parser of the DOM it dumps.

Without Chromium the browser tests skip locally with the reason, and fail under CI=true (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    """The Chromium binary; skips the test locally without it, fails it under CI."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )
    if found:
        return found
    reason = "Chromium is not installed (apt-get install -y chromium); the dashboard's browser tests need it"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def dump_dom(url: str, screenshot: Path | None = None) -> str:
    """The DOM Chromium built for `url` (after parsing and layout), serialised as HTML."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        args = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
        if screenshot is not None:
            subprocess.run(
                [*args, "--window-size=1280,1400", f"--screenshot={screenshot}", url],
                capture_output=True,
                timeout=120,
                check=True,
            )
        result = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise AssertionError(
            f"chromium --dump-dom {url} failed ({result.returncode}): {result.stderr[-2000:]}"
        )
    return result.stdout


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    text: str = ""

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def find_all(self, tag: str | None = None, css_class: str | None = None, **data) -> list[Node]:
        """Descendants by tag, class and data-* attributes (data_x_y="v" matches data-x-y="v")."""
        found = []
        for child in self.children:
            if (
                (tag is None or child.tag == tag)
                and (css_class is None or css_class in child.classes)
                and all(child.attrs.get("data-" + k.replace("_", "-")) == v for k, v in data.items())
            ):
                found.append(child)
            found.extend(child.find_all(tag, css_class, **data))
        return found

    def one(self, tag: str | None = None, css_class: str | None = None, **data) -> Node:
        found = self.find_all(tag, css_class, **data)
        assert len(found) == 1, f"expected one <{tag} class={css_class} {data}>, found {len(found)}"
        return found[0]

    def data(self, name: str) -> str:
        return self.attrs["data-" + name.replace("_", "-")]


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.open[-1])
        self.open[-1].children.append(node)
        if tag not in VOID:
            self.open.append(node)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}, self.open[-1]))

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, 0, -1):
            if self.open[i].tag == tag:
                del self.open[i:]
                return

    def handle_data(self, data):
        for node in self.open:
            node.text += data


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
