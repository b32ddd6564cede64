"""The scheduled daily build (data tests scoped to the latest run, so it passes --vars) does not parse the
whole dbt project every day: its runs share one target folder, where dbt keeps a partial-parse file parsed
with the same vars (orchestration/dbt_assets.target_path). The partial-parse file in that folder shows which
parse each run did: a full parse writes it, a skipped parse leaves it as it was."""

from __future__ import annotations

from dagster_dbt import DbtCliResource

from orchestration.dbt_assets import target_path
from orchestration.project import dbt_project
from settings import build_flags, scope_vars
from settings.dbt import dbt_executable


def test_daily_builds_keep_one_target_folder_and_other_builds_get_a_new_one():
    assert target_path("latest_run").parent == dbt_project.project_dir / dbt_project.target_path
    assert target_path("all") is None  # dagster-dbt's new folder per run, seeded with the prepared parse


def test_the_second_daily_build_reuses_the_parse_of_the_first(tmp_path):
    from orchestration.definitions import defs  # noqa: F401  (prepares the manifest, as the code location does)

    prepared = dbt_project.project_dir / dbt_project.target_path / "partial_parse.msgpack"
    assert prepared.exists(), "the project's prepared partial-parse file is what dagster-dbt copies in"
    dbt = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    folder = tmp_path / "dagster_latest_run"  # as target_path("latest_run"), kept out of the shared target
    # The daily build's --vars, the part of its flags a `dbt parse` takes.
    daily_vars = scope_vars("latest_run")
    assert set(daily_vars) <= set(build_flags("latest_run")) and daily_vars[0] == "--vars", daily_vars
    parse_file = folder / "partial_parse.msgpack"

    # The first run gets the prepared file, parsed without the vars: dbt refuses it, parses everything and
    # writes its own partial-parse file, parsed with the daily vars.
    dbt.cli(["parse", *daily_vars], target_path=folder).wait()
    first = parse_file.read_bytes()
    assert first != prepared.read_bytes(), "the daily vars must make the first daily parse a full one"
    written_at = parse_file.stat().st_mtime_ns

    # The second finds the first's file in the same folder, parsed with the same vars, and skips parsing:
    # the file is neither rewritten nor changed.
    dbt.cli(["parse", *daily_vars], target_path=folder).wait()
    assert parse_file.stat().st_mtime_ns == written_at and parse_file.read_bytes() == first
