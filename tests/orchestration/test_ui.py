"""The Dagster webserver starts on the code location and its GraphQL endpoint lists the assets."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from settings import REPO_ROOT

pytestmark = [pytest.mark.ui, pytest.mark.slow]

STARTUP_TIMEOUT_S = 180
QUERY = "{ assetNodes { assetKey { path } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_webserver_lists_raw_dbt_and_published_assets(tmp_path):
    port = _free_port()
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
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        payload = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                payload = _graphql(port)
                if payload.get("data", {}).get("assetNodes"):
                    break
            except OSError:
                pass
            time.sleep(2)
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
