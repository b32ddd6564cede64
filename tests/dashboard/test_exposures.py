"""The dashboard is a dbt exposure on exactly the marts it reads, and dbt accepts the declaration."""

from __future__ import annotations

import json

import pytest
from support import run_dbt

from dashboard.pages import MARTS

pytestmark = pytest.mark.slow  # a full dbt parse


def test_dbt_parses_the_dashboard_exposure_on_the_marts_it_reads(tmp_path):
    run_dbt(["parse"], tmp_path / "warehouse.duckdb", tmp_path / "dbt")
    manifest = json.loads((tmp_path / "dbt" / "target" / "manifest.json").read_text())
    (exposure,) = [e for e in manifest["exposures"].values() if e["name"] == "answers_dashboard"]
    assert exposure["type"] == "dashboard"
    nodes = exposure["depends_on"]["nodes"]
    assert all(manifest["nodes"][node]["fqn"][1] == "marts" for node in nodes), (
        "the dashboard reads marts only"
    )
    assert sorted(node.rsplit(".", 1)[-1] for node in nodes) == sorted(MARTS)
