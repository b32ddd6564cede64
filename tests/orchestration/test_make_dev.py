"""`make dev` works on a fresh clone without an activated venv: the code location loads and lists the assets.

Runs the real `make dev` (which runs `dagster dev`) from an environment whose PATH does not hold the venv's
bin folder, as a new user's shell has it, and asks the webserver's GraphQL endpoint whether the code location
loaded.
"""

import os
import signal
import subprocess

import pytest
from support import free_port, wait_for_graphql

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


def _path_without_venv() -> str:
    venv_bin = str(REPO_ROOT / ".venv" / "bin")
    return os.pathsep.join(
        p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p and p != venv_bin
    )


def _all_loaded(payload: dict) -> bool:
    entries = payload["data"]["workspaceOrError"].get("locationEntries") or []
    return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)


def test_make_dev_loads_the_code_location_without_an_activated_venv(tmp_path):
    port = free_port()
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
    try:
        payload = wait_for_graphql(proc, port, QUERY, _all_loaded, STARTUP_TIMEOUT_S)
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
