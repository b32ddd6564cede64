"""The Dagster webserver starts on the code location and its GraphQL endpoint lists the assets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import free_port, wait_for_graphql

from settings import REPO_ROOT

pytestmark = [pytest.mark.ui, pytest.mark.slow]

STARTUP_TIMEOUT_S = 180
QUERY = "{ assetNodes { assetKey { path } } }"


def test_webserver_lists_raw_dbt_and_published_assets(tmp_path):
    port = free_port()
    webserver = Path(sys.executable).with_name("dagster-webserver")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        payload = wait_for_graphql(
            proc, port, QUERY, lambda answer: bool(answer["data"]["assetNodes"]), STARTUP_TIMEOUT_S
        )
        assert proc.poll() is None, proc.stdout.read()
        assert payload and payload.get("data"), f"no GraphQL answer within {STARTUP_TIMEOUT_S}s: {payload}"
        keys = {"/".join(node["assetKey"]["path"]) for node in payload["data"]["assetNodes"]}
        assert "published_marts" in keys
        assert "billing/invoices" in keys
        assert any(k.endswith("fct_defections") for k in keys)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
