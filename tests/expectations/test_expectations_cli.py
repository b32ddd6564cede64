"""`python -m expectations` judges a built warehouse the same in worker processes as in one, and a failure or
a check that could not run in a worker fails the whole run."""

from __future__ import annotations

import shutil
import subprocess
import sys

import duckdb
import pytest
from great_expectations.execution_engine import sqlalchemy_execution_engine

from expectations import runtime
from expectations.__main__ import main, split_memory_limit
from expectations.registry import LAYERS, suite_names


def _copy(built_warehouse, tmp_path, name):
    path = tmp_path / name / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy(built_warehouse, path)
    return path


def _verdicts(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.endswith("expectations)")]


def _recorded(path) -> list[tuple[str, int]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select suite_name, row_count from audit.gx_row_counts order by all").fetchall()


def test_two_workers_judge_every_suite_as_one_process_does(built_warehouse, tmp_path, capsys):
    one, two = _copy(built_warehouse, tmp_path, "one"), _copy(built_warehouse, tmp_path, "two")
    assert main(["--warehouse", str(one), "--gx-dir", str(tmp_path / "gx1"), "--jobs", "1"]) == 0
    alone = capsys.readouterr().out
    assert main(["--warehouse", str(two), "--gx-dir", str(tmp_path / "gx2"), "--jobs", "2"]) == 0
    shared = capsys.readouterr().out

    every_suite = {f"{layer}.{name}" for layer in LAYERS for name in suite_names(layer)}
    assert {line.split(":")[0] for line in _verdicts(shared)} == every_suite
    # The same verdicts and expectation counts, in the same order, and the same baselines for the next run.
    assert _verdicts(shared) == _verdicts(alone)
    assert all(": passed (" in line for line in _verdicts(shared)), shared
    assert _recorded(two) == _recorded(one) != []
    # One index over both workers' pages: every suite has a page in it.
    index = tmp_path / "gx2" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert f"data docs: {index}" in shared
    site = index.parent / "validations"
    suites_with_pages = {page.relative_to(site).parts[0] for page in site.rglob("*.html")}
    assert suites_with_pages == {suite.split(".")[1] for suite in every_suite}
    text = index.read_text()
    assert all(suite.split(".")[1] in text for suite in every_suite)


def test_a_blocking_failure_found_by_a_worker_fails_the_run_and_keeps_its_old_baseline(
    built_warehouse, tmp_path, capsys
):
    path = _copy(built_warehouse, tmp_path, "broken")
    with duckdb.connect(str(path)) as con:
        con.execute("update raw.survey__responses set score = 55")
    assert (
        main(["--warehouse", str(path), "--gx-dir", str(tmp_path / "gx"), "--layer", "raw", "--jobs", "2"])
        == 1
    )
    output = capsys.readouterr().out
    assert "raw.survey__responses: FAILED" in output
    assert "survey__responses.rows: expect_column_values_to_be_between(score)" in output
    recorded = {name for name, _ in _recorded(path)}
    assert "survey__responses" not in recorded and recorded and recorded <= set(suite_names("raw"))


def test_the_command_exits_1_on_a_blocking_failure_with_every_line_written(built_warehouse, tmp_path):
    # As the benchmark and a shell run it: `python -m expectations`, whose exit freezes the GC first.
    path = _copy(built_warehouse, tmp_path, "command")
    with duckdb.connect(str(path)) as con:
        con.execute("update raw.survey__responses set score = 55")
    argv = ["--warehouse", str(path), "--gx-dir", str(tmp_path / "gx"), "--layer", "raw"]
    run = subprocess.run(
        [sys.executable, "-m", "expectations", *argv], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 1, run.stderr
    assert len(_verdicts(run.stdout)) == len(suite_names("raw")), run.stdout
    assert "raw.survey__responses: FAILED" in run.stdout and "data docs: " in run.stdout.splitlines()[-1]


def test_a_worker_that_cannot_run_gx_stops_the_run_instead_of_passing(built_warehouse, tmp_path, monkeypatch):
    # The workers are forked, so they inherit this GX with the tuple the DuckDB patch needs gone.
    path = _copy(built_warehouse, tmp_path, "blind")
    monkeypatch.delattr(sqlalchemy_execution_engine, "_PERSISTED_CONNECTION_DIALECTS")
    with pytest.raises(runtime.GxPatchError):
        main(["--warehouse", str(path), "--gx-dir", str(tmp_path / "gx"), "--layer", "raw", "--jobs", "2"])
    assert _recorded(path) == []


@pytest.mark.parametrize(
    ("limit", "parts", "share"), [("3GB", 2, "1500MB"), ("10GB", 4, "2500MB"), ("512MiB", 2, "268MB")]
)
def test_each_worker_gets_its_share_of_the_memory_limit(limit, parts, share):
    assert split_memory_limit(limit, parts) == share


def test_a_memory_limit_in_another_form_is_refused():
    with pytest.raises(ValueError, match="80%"):
        split_memory_limit("80%", 2)
