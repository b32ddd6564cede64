"""Helpers shared by tests: paths, the small company's size, running dbt against a warehouse file, and asking
a Dagster webserver started by a test what it serves.

A plain module (not conftest.py) so test files can import it: several conftest.py files exist, and
`from conftest import ...` would pick whichever pytest imported first.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from settings import REPO_ROOT
from settings.dbt import dbt_command

# Small enough for CI, large enough that every kind of event and untidiness occurs.
SMALL_COMPANY = {"customers": 1500, "days": 240, "seed": 7, "start_date": date(2024, 1, 1)}


@dataclass(frozen=True)
class Company:
    exports_dir: Path
    answer_key_dir: Path
    customers: int
    days: int
    seed: int
    start_date: date


def run_dbt(args: list[str], warehouse_path: Path, work_dir: Path, extra_env: dict | None = None):
    """Run dbt from the repo root against `warehouse_path`, with its own target/log folders.

    Separate target and log paths let several test sessions (or a developer's own `dbt build`) run at once.
    Raises CalledProcessError with dbt's output when dbt fails.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse_path), **(extra_env or {})}
    cmd = dbt_command(args, target_path=work_dir / "target", log_path=work_dir / "logs")
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, cmd, result.stdout, result.stderr)
    return result


def free_port() -> int:
    """A TCP port on 127.0.0.1 that no one listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    """The answer of the Dagster webserver on `port` to a GraphQL `query`."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_for_graphql(
    proc: subprocess.Popen, port: int, query: str, ready: Callable[[dict], bool], timeout_s: float
) -> dict | None:
    """Ask the webserver `proc` runs on `port` for `query` every 2 s until `ready(answer)` holds, `proc` ends
    or `timeout_s` passes; returns the last answer (None when none came). An answer missing the keys
    `ready` reads counts as not ready yet."""
    answer = None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            answer = graphql(port, query)
            if ready(answer):
                break
        except (OSError, KeyError, TypeError, AttributeError):
            pass
        time.sleep(2)
    return answer
