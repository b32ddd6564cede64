"""How every part of the project runs dbt: which executable, and the arguments that point it at this project.

The orchestration (dagster-dbt's DbtCliResource and the manifest parse), the benchmarks and the tests all
build their dbt commands here, so they run the same dbt on the same project and profile.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from settings import REPO_ROOT

# Every file and folder dbt reads in this project (dbt_project.yml's paths, the company profiles' seeds, the
# profile): what a parse and a build depend on besides the data.
DBT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "companies", "tests/dbt")

_ENV_VAR = re.compile(r"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")


def dbt_input_files(root: Path = REPO_ROOT) -> list[Path]:
    """Every file of DBT_INPUTS under `root`, in a stable order."""
    files = []
    for name in DBT_INPUTS:
        path = root / name
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return files


def dbt_env_vars(root: Path = REPO_ROOT) -> dict[str, str | None]:
    """The environment variables the project's files read through env_var(), with their values here (None
    when unset): with the files, what a parse depends on (the profile's warehouse path and target, the
    company profile's seeds)."""
    names = set()
    for file in dbt_input_files(root):
        if file.suffix in (".yml", ".yaml", ".sql"):
            names.update(_ENV_VAR.findall(file.read_text(encoding="utf-8", errors="replace")))
    return {name: os.environ.get(name) for name in sorted(names)}


def dbt_executable() -> str:
    """The dbt beside the running interpreter (the venv is often not activated), else the project's venv's,
    else the one on PATH."""
    for candidate in (Path(sys.executable).with_name("dbt"), REPO_ROOT / ".venv" / "bin" / "dbt"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


def dbt_command(
    args: Sequence[str], target_path: str | Path | None = None, log_path: str | Path | None = None
) -> list[str]:
    """`dbt <args>` on this project and its profile (both at the repo root), to be run with cwd=REPO_ROOT.

    `target_path` and `log_path` give the run folders of its own, so that several runs (test sessions, a
    benchmark, a developer's `dbt build`) do not overwrite each other's manifest and logs.
    """
    cmd = [dbt_executable(), *args, "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)]
    if target_path is not None:
        cmd += ["--target-path", str(target_path)]
    if log_path is not None:
        cmd += ["--log-path", str(log_path)]
    return cmd
