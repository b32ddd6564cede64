"""Mistakes get a clear one-line message and a non-zero exit, and nothing is done in their name.

Cases:
- EXPORTS_DIR mistyped (no day folders): exit 2 from the job and from the demo, no synthetic company
  generated into it;
- the demo's `--generate` asked for: a sample company is generated there (the flag is what allows it);
- WAREHOUSE_PATH (or SERVING_DIR) not writable: exit 2 before any work, never "published marts";
- `dbt build` before any load: one line saying to load first, no traceback;
- a venv built by another Python, or for another pyproject.toml, is rebuilt by `make setup`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import run_dbt

from settings import REPO_ROOT


def _run(tmp_path: Path, *args: str, module: str = "orchestration.run", **env_overrides: str):
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "EXPORTS_DIR": str(tmp_path / "exports"),
        "SERVING_DIR": str(tmp_path / "serving"),
        "ALERTS_PATH": str(tmp_path / "alerts.log"),
        "GX_DIR": str(tmp_path / "gx"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        **env_overrides,
    }
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("module", ["orchestration.run", "demo"])
def test_a_mistyped_exports_dir_is_refused_and_gets_nothing_generated(tmp_path, module):
    typo = tmp_path / "exprots"
    typo.mkdir()
    result = _run(tmp_path, module=module, EXPORTS_DIR=str(typo))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no export day folders" in result.stderr and "--generate" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(typo.iterdir()) == []
    assert not (tmp_path / "answer_key").exists()
    assert "published marts" not in result.stdout


@pytest.mark.parametrize("folder", ["2024-6-29", "20240629"])
def test_a_lone_misnamed_day_folder_is_named_with_the_name_to_give_it(tmp_path, folder):
    exports = tmp_path / "exports"
    (exports / folder).mkdir(parents=True)
    result = _run(tmp_path, EXPORTS_DIR=str(exports))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{folder}/" in result.stderr and "rename it to '2024-06-29'" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert [p.name for p in exports.iterdir()] == [folder]


def test_an_unwritable_warehouse_path_fails_fast(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = _run(tmp_path, WAREHOUSE_PATH=str(blocker / "warehouse.duckdb"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: WAREHOUSE_PATH=") and "cannot write" in result.stderr
    assert "published marts" not in result.stdout
    assert "Traceback" not in result.stderr


def test_an_unwritable_serving_dir_fails_fast(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = _run(tmp_path, SERVING_DIR=str(blocker / "serving"))
    assert result.returncode == 2 and result.stderr.startswith("error: SERVING_DIR="), result.stderr


def test_dbt_build_before_any_load_says_to_load_first(tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as failed:
        run_dbt(["build"], tmp_path / "empty.duckdb", tmp_path / "dbt")
    output = failed.value.stdout + failed.value.stderr
    assert "No raw tables in the warehouse" in output and "python -m raw.load" in output, output
    assert "Traceback" not in output


@pytest.mark.slow
def test_generate_flag_allows_a_sample_company_in_a_named_folder(tmp_path):
    named = tmp_path / "sample"
    result = _run(
        tmp_path,
        *("--generate", "--customers", "300", "--days", "40", "--seed", "11"),
        module="demo",
        EXPORTS_DIR=str(named),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list(named.iterdir())) == 40
    for stage in ("generate:", "load:", "raw gate:", "build staging:", "staging gates:", "publish:"):
        assert stage in result.stdout, (stage, result.stdout)
    # The hint to read the publication needs nothing setup does not install.
    assert "duckdb -readonly" not in result.stdout and "read_only=True" in result.stdout


def _make_setup(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "setup", f"PYTHON={sys.executable}", "VENV_INSTALL=true", f"DAGSTER_HOME={project / 'dh'}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_setup_rebuilds_a_venv_of_a_wrong_python_or_an_older_pyproject(tmp_path):
    project = tmp_path / "clone"
    (project / "orchestration").mkdir(parents=True)
    for name in ("Makefile", "pyproject.toml", "orchestration/dagster.yaml"):
        shutil.copy(REPO_ROOT / name, project / name)
    fake_bin = project / ".venv" / "bin"
    fake_bin.mkdir(parents=True)
    (fake_bin / "python").write_text("#!/bin/sh\necho 3.9.18\n")
    (fake_bin / "python").chmod(0o755)
    (fake_bin / "activate").write_text("")

    first = _make_setup(project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "setting up .venv" in first.stdout and "venv python 3.9.18" in first.stdout
    version = subprocess.run(
        [str(fake_bin / "python"), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
    ).stdout
    assert version.strip() == str(sys.version_info[:2])
    stamp = (project / ".venv" / ".setup-stamp").read_text()
    assert f"python {sys.version_info.major}.{sys.version_info.minor}" in stamp

    again = _make_setup(project)
    assert again.returncode == 0 and "setting up" not in again.stdout, again.stdout

    with (project / "pyproject.toml").open("a") as handle:
        handle.write("\n# a new dependency would change this file\n")
    changed = _make_setup(project)
    assert "setting up .venv" in changed.stdout, changed.stdout
