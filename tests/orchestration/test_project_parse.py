"""Processes that load the Dagster definitions together (pytest's workers, two jobs launched at once) parse
the dbt project one at a time (orchestration/project.parse_if_stale): each would otherwise find the manifest
stale and write the same target folder at once, leaving a manifest.json made of two parses."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time

import orjson
import psutil

from settings import REPO_ROOT
from settings.dbt import dbt_command


def test_a_process_waits_for_the_parse_another_holds_then_finds_the_manifest_fresh(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    env = {**os.environ, "DBT_TARGET_PATH": str(target)}
    load = [sys.executable, "-c", "import orchestration.project"]
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a process parsing right now holds it
        waiting = subprocess.Popen(load, cwd=REPO_ROOT, env=env)
        # Time enough to import and find the manifest stale (a few seconds); a process that does not wait
        # starts `dbt parse` as its child meanwhile.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert not psutil.Process(waiting.pid).children(), "it parsed while another parse held the lock"
            assert waiting.poll() is None, "the process did not wait for the parse in progress"
            time.sleep(0.1)
        assert not (target / "manifest.json").exists()
    assert waiting.wait(timeout=300) == 0
    manifest = orjson.loads((target / "manifest.json").read_bytes())
    assert any(node.startswith("model.") for node in manifest["nodes"])

    # The next process finds the manifest fresh: it does not parse again.
    written = (target / "manifest.json").stat().st_mtime_ns
    subprocess.run(load, cwd=REPO_ROOT, env=env, check=True)
    assert (target / "manifest.json").stat().st_mtime_ns == written


def test_a_manifest_parsed_in_another_environment_is_parsed_again(tmp_path):
    """Another WAREHOUSE_PATH is another dbt profile: the manifest and partial_parse.msgpack of the previous
    one would make every dbt invocation of the run parse the project in full again. So would those a dbt
    command run by hand wrote into the target folder."""
    target = tmp_path / "target"
    load = [sys.executable, "-c", "import orchestration.project"]

    def env(warehouse: str) -> dict:
        return {**os.environ, "DBT_TARGET_PATH": str(target), "WAREHOUSE_PATH": str(tmp_path / warehouse)}

    subprocess.run(load, cwd=REPO_ROOT, env=env("a.duckdb"), check=True)
    first = (target / "manifest.json").stat().st_mtime_ns
    subprocess.run(load, cwd=REPO_ROOT, env=env("a.duckdb"), check=True)
    assert (target / "manifest.json").stat().st_mtime_ns == first, "the same environment parsed again"

    subprocess.run(load, cwd=REPO_ROOT, env=env("b.duckdb"), check=True)
    assert (target / "manifest.json").stat().st_mtime_ns != first, "another environment kept the manifest"
    recorded = orjson.loads((target / "parse_record.json").read_bytes())
    assert recorded["env"]["WAREHOUSE_PATH"] == str(tmp_path / "b.duckdb")
    assert not [p.name for p in target.iterdir() if p.name.startswith(".parse-")], "the parse left its folder"

    # dbt, run as a Dagster run's invocation runs it (the target folder's partial_parse.msgpack), parses
    # only what changed: the profile is the one the manifest was parsed with.
    parsed = subprocess.run(
        dbt_command(["parse"], target_path=target, log_path=tmp_path / "logs"),
        cwd=REPO_ROOT,
        env=env("b.duckdb"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Unable to do partial parsing" not in parsed.stdout, parsed.stdout

    # That dbt command, run by hand, wrote the target folder in its own environment: the next load parses.
    by_hand = (target / "manifest.json").stat().st_mtime_ns
    subprocess.run(load, cwd=REPO_ROOT, env=env("b.duckdb"), check=True)
    assert (target / "manifest.json").stat().st_mtime_ns != by_hand, "a manifest dbt wrote by hand was kept"
