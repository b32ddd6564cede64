"""Helpers shared by tests: paths, the small company's size, and running dbt against a warehouse file.

A plain module (not conftest.py) so test files can import it: several conftest.py files exist, and
`from conftest import ...` would pick whichever pytest imported first.
"""

from __future__ import annotations

import os
import subprocess
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
