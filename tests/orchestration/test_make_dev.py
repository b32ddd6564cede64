"""`make dev` works on a fresh clone without an activated venv: the code location loads and lists the assets.

Runs the real `make dev` (which runs `dagster dev`) from an environment whose PATH does not hold the venv's
bin folder, as a new user's shell has it, and asks the webserver's GraphQL endpoint whether the code location
loaded.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from settings import REPO_ROOT

pytestmark = [pytest.mark.ui, pytest.mark.slow]

STARTUP_TIMEOUT_S = 300
QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
  assetNodes { assetKey { path } }
}
"""


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


def _path_without_venv() -> str:
    venv_bin = str(REPO_ROOT / ".venv" / "bin")
    return os.pathsep.join(
        p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p and p != venv_bin
    )


def test_make_dev_loads_the_code_location_without_an_activated_venv(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "DBT_TARGET_PATH")}
    env.update(PATH=_path_without_venv(), DAGSTER_HOME=str(tmp_path / "dagster_home"))
    env["DBT_TARGET_PATH"] = str(tmp_path / "dbt_target")
    assert not any(
        os.access(os.path.join(p, "dbt"), os.X_OK) and p.startswith(str(REPO_ROOT))
        for p in env["PATH"].split(os.pathsep)
    )
    proc = subprocess.Popen(
        ["make", "dev", f"DEV_ARGS=-h 127.0.0.1 -p {port}"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    payload = None
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                payload = _graphql(port)
                entries = payload["data"]["workspaceOrError"].get("locationEntries") or []
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except (OSError, KeyError, TypeError):
                pass
            time.sleep(2)
        assert proc.poll() is None, proc.stdout.read()
        assert payload, f"no GraphQL answer within {STARTUP_TIMEOUT_S}s"
        [entry] = payload["data"]["workspaceOrError"]["locationEntries"]
        assert entry["loadStatus"] == "LOADED", entry
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
        keys = {"/".join(n["assetKey"]["path"]) for n in payload["data"]["assetNodes"]}
        assert "published_marts" in keys and "billing/invoices" in keys
        assert any(k.endswith("fct_defections") for k in keys)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
