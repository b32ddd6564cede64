"""The benchmark script runs end to end on a tiny company (figures are not asserted, only produced), judges
its targets from its own figures, and writes only where it is told."""

import json

import duckdb
import pytest

from benchmarks.bench import (
    TABLES_BEGIN,
    TABLES_END,
    TARGETS,
    SizeResult,
    judge_targets,
    main,
    reference_script,
    touchpoint_columns,
    without_machine_paths,
)
from raw.contract import load_contract

STAGES = {
    "generate",
    "load",
    "dbt build",
    "gx checks",
    "publish",
    "floor (compiled SQL)",
    "one more day: load",
    "one more day: build",
    "one more day: publish",
    "daily build, no new rows",
    "daily dbt build, no new rows, forced",
    "reference (raw read + one sort)",
    "dagster main job",
}


@pytest.mark.slow
def test_benchmark_writes_every_stage_and_figure(tmp_path):
    """Every stage and figure at 400 customers x 90 days; the Markdown goes between the table markers of an
    existing page and leaves the page's own text as it was."""
    out_json, out_md = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    out_md.write_text(
        f"# Page\n\nHow to run.\n\n{TABLES_BEGIN}\nold tables\n{TABLES_END}\n\nWhat the misses need.\n"
    )
    argv = ["--customers", "400", "--days", "90", "--work-dir", str(tmp_path / "work")]
    assert main([*argv, "--json", str(out_json), "--markdown", str(out_md)]) == 0

    (result,) = json.loads(out_json.read_text())["results"]
    assert result["customers"] == 400 and result["raw_rows"] > 0
    assert {s["stage"] for s in result["stages"]} == STAGES
    assert all(s["seconds"] > 0 and s["peak_rss_mb"] > 0 for s in result["stages"])
    figures = result["figures"]
    assert isinstance(figures["gx_all_blocking_checks_passed"], bool)
    for name in (
        "build_to_floor_ratio",
        "build_to_reference_ratio",
        "one_more_day_share_of_full_build",
        "daily_build_no_new_rows_share_of_one_more_day_build",
        "daily_build_no_new_rows_share_of_full_build",
        "forced_dbt_build_no_new_rows_share_of_full_build",
        "gx_share_of_total",
        "dagster_main_job_seconds",
        "dagster_to_bare_ratio",
    ):
        assert figures[name] > 0, name
    # The daily build after the one that loaded the last day found nothing changed and did not start dbt.
    assert figures["daily_build_no_new_rows_ran_dbt"] is False
    # The Dagster main job ran the same days as the bare stages and its overhead is their difference.
    job = next(s for s in result["stages"] if s["stage"] == "dagster main job")
    assert figures["orchestration_overhead_seconds"] == round(
        job["seconds"] - figures["end_to_end_seconds"], 2
    )
    # The reference read every landed table of the contract that names a party and a time as touchpoints.
    contract = load_contract()
    with_party_and_time = [t for t in contract.tables.values() if touchpoint_columns(t)]
    assert figures["reference_touchpoint_tables"] == len(with_party_and_time) < len(contract.tables)
    assert 0 < figures["reference_touchpoints"] < result["raw_rows"]
    # A reader of the publication was never refused while the next day was built and published.
    assert figures["reader_queries"] > 0 and figures["reader_errors"] == 0, figures["reader_error_samples"]
    page = out_md.read_text()
    assert "| dbt build |" in page and "| dagster main job |" in page and "old tables" not in page
    assert page.startswith("# Page\n\nHow to run.\n") and page.endswith(
        f"{TABLES_END}\n\nWhat the misses need.\n"
    )
    # The page names the command without this machine's paths.
    assert str(tmp_path) not in page and str(tmp_path) not in json.loads(out_json.read_text())["command"]
    # Every target is judged in the JSON and the Markdown: the sizes this run did not measure say so.
    verdicts = json.loads(out_json.read_text())["targets"]
    assert {v["target"] for v in verdicts} == {t.text for t in TARGETS}
    assert all(v["verdict"] for v in verdicts)
    assert all(t.text in page for t in TARGETS)
    # The floor runs the same SQL as the build: every model, then every data test's query.
    assert figures["floor_models"] > 40 and figures["floor_data_tests"] > 100, figures
    # Where each build's time went: every node dbt ran, grouped by kind, the full build's models being the
    # floor's; only the daily build tests incremental models on the rows of the latest run.
    full, day = result["profiles"]["dbt build"], result["profiles"]["one more day: build"]
    for profile in (full, day):
        assert sum(k["nodes"] for k in profile["by_kind"].values()) == len(profile["seconds_by_node"])
        assert 0 < profile["slowest"][0]["seconds"] <= profile["elapsed_seconds"]
    models = sum(v["nodes"] for k, v in full["by_kind"].items() if k.endswith(" model"))
    assert models == figures["floor_models"], full["by_kind"]
    scoped = "data test, rows of the latest run"
    assert day["by_kind"][scoped]["nodes"] > 0 and scoped not in full["by_kind"]
    assert "### Where the build time goes at 400 customers" in page and f"| {scoped} |" in page


@pytest.mark.slow
def test_a_failing_stage_keeps_the_figures_measured_before_it(tmp_path, monkeypatch):
    """A stage that fails (here dbt, given a flag it does not know) ends the run with exit 1, and the JSON and
    the Markdown still hold every stage measured up to it, the failed stage's own time and peak, and why.
    The run also drops the loaded export days (`--drop-loaded-exports`): only the held-back last day stays."""
    import benchmarks.bench as bench

    monkeypatch.setattr(bench, "build_flags", lambda scope: ["--no-such-dbt-flag"])
    argv = ["--customers", "200", "--days", "30", "--work-dir", str(tmp_path / "work"), "--keep"]
    argv += ["--drop-loaded-exports"]
    assert main(argv) == 1
    # Without --json and --markdown the results go into the work folder, nowhere else.
    out_json, out_md = tmp_path / "work" / "results.json", tmp_path / "work" / "results.md"
    work = tmp_path / "work" / "c200_d30"
    (held_back,) = [d.name for d in (work / "exports").iterdir() if d.is_dir()]
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        loaded = con.execute("select max(_export_date)::varchar from raw.crm__contacts").fetchone()[0]
    assert loaded < held_back, (loaded, held_back)

    (result,) = json.loads(out_json.read_text())["results"]
    assert [s["stage"] for s in result["stages"]] == ["generate", "load", "dbt build"]
    generate, load, build = result["stages"]
    assert load["rows"] == result["raw_rows"] > 0 and load["seconds"] > 0
    assert build["note"].startswith("failed: exit") and build["seconds"] > 0 and build["peak_rss_mb"] > 0
    assert result["figures"]["failed"].startswith("stage dbt build failed"), result["figures"]
    assert any("no-such-dbt-flag" in line for line in result["figures"]["failure_output_tail"])
    assert "| dbt build |" in out_md.read_text() and "| failed |" in out_md.read_text()
    # What it records of the failure names the work folder and the repository by placeholders only.
    failure = json.dumps([result["figures"]["failed"], result["figures"]["failure_output_tail"]])
    assert (
        "<work>/c200_d30" in failure and str(tmp_path) not in failure and str(bench.REPO_ROOT) not in failure
    )
    assert str(tmp_path) not in out_md.read_text()


def _size(customers: int, **figures) -> SizeResult:
    return SizeResult(customers=customers, days=730, figures=figures)


def test_targets_are_judged_from_the_run_figures_with_the_size_they_name():
    """A verdict says met or by how much it missed, only for the sizes a target names; a size the run did not
    include is not measured; a failed 10M run misses "completes" but leaves other targets unmeasured."""
    results = [
        _size(10_000, gx_share_of_total=0.25, reader_errors=0),
        _size(
            1_000_000,
            end_to_end_seconds=450.0,
            end_to_end_peak_rss_mb=3000.0,
            build_to_floor_ratio=1.2,
            one_more_day_share_of_full_build=0.1,
            gx_share_of_total=0.05,
            reader_errors=2,
        ),
        _size(10_000_000, failed="stage dbt build failed (1)", end_to_end_peak_rss_mb=9000.0),
    ]
    verdicts = {(v["target"], v["customers"]): v for v in judge_targets(results)}
    by_figure = {t.figure: t.text for t in TARGETS if t.customers in (None, 1_000_000)}

    e2e = verdicts[(by_figure["end_to_end_seconds"], 1_000_000)]
    assert e2e["measured"] == 450.0 and e2e["verdict"] == "missed by 150.0 (1.5x the limit)"
    assert verdicts[(by_figure["build_to_floor_ratio"], 1_000_000)]["verdict"] == "met"
    # The limit itself meets the target ("at most").
    assert verdicts[(by_figure["one_more_day_share_of_full_build"], 1_000_000)]["verdict"] == "met"
    assert verdicts[(by_figure["reader_errors"], 1_000_000)]["verdict"].startswith("missed")
    assert verdicts[(by_figure["gx_share_of_total"], 10_000)]["verdict"].startswith("missed by 0.05")
    # Targets of one size are not judged at another.
    assert (by_figure["end_to_end_seconds"], 10_000) not in verdicts
    ten_million = [v for v in judge_targets(results) if v["customers"] == 10_000_000]
    completes = next(v for v in ten_million if v["target"].startswith("10M customers completes"))
    assert completes["verdict"] == "missed: stage dbt build failed (1)"
    assert all(v["verdict"].startswith("not measured") for v in ten_million if v is not completes)

    without_1m = judge_targets(results[:1])
    assert {v["verdict"] for v in without_1m if v["customers"] == 1_000_000} == {"not measured in this run"}


def test_a_failed_run_is_judged_on_the_figures_measured_before_the_failing_stage():
    """A 1M run that stopped at its last stage (the Dagster main job) keeps its verdicts on what it measured;
    a target whose figure it did not get to is not measured, and says why."""
    failed = "stage dagster main job failed (1): <repo>/.venv/bin/python -m orchestration.run"
    results = [
        _size(
            1_000_000,
            failed=failed,
            end_to_end_seconds=280.0,
            end_to_end_peak_rss_mb=5000.0,
            one_more_day_share_of_full_build=0.2,
            gx_share_of_total=0.1,
            reader_errors=0,
        )
    ]
    verdicts = {v["figure"]: v for v in judge_targets(results) if v["customers"] == 1_000_000}
    assert verdicts["end_to_end_seconds"]["verdict"] == "met"
    assert verdicts["end_to_end_peak_rss_mb"]["verdict"] == "missed by 904.0 (1.2x the limit)"
    assert verdicts["one_more_day_share_of_full_build"]["verdict"] == "missed by 0.1 (2.0x the limit)"
    assert verdicts["gx_share_of_total"]["verdict"] == verdicts["reader_errors"]["verdict"] == "met"
    for figure in ("build_to_floor_ratio", "daily_build_no_new_rows_share_of_full_build"):
        assert (
            verdicts[figure]["measured"] is None and verdicts[figure]["verdict"] == f"not measured: {failed}"
        )


def test_what_a_failure_records_names_no_folder_of_this_machine(tmp_path):
    """The work folder, the repository and the home folder become `<work>`, `<repo>` and `~`, the longest
    first (a work folder inside the repository is `<work>`); a name that merely starts like one is kept."""
    home = tmp_path / "home" / "me"
    repo = home / "src" / "warehouse"
    work = repo / "bench-work"
    tail = [
        f"{repo}/.venv/bin/dbt build --target-path {work}/c200_d30/dbt/target",
        f"Runtime Error: could not open {home}/.dbt/profiles.yml nor {repo}-old/x.sql",
        "nothing to replace",
    ]
    assert without_machine_paths({"failed": f"cd {work}", "failure_output_tail": tail}, work, repo, home) == {
        "failed": "cd <work>",
        "failure_output_tail": [
            "<repo>/.venv/bin/dbt build --target-path <work>/c200_d30/dbt/target",
            "Runtime Error: could not open ~/.dbt/profiles.yml nor ~/src/warehouse-old/x.sql",
            "nothing to replace",
        ],
    }
    # Figures that are no text pass through as they are.
    assert without_machine_paths({"reader_errors": 0, "ratio": 1.5}, work, repo, home) == {
        "reader_errors": 0,
        "ratio": 1.5,
    }


def test_touchpoints_take_the_party_and_time_the_contract_names():
    tables = load_contract().tables
    assert touchpoint_columns(tables["crm__contacts"]) == ("customer_id", "contact_at")
    assert touchpoint_columns(tables["billing__accounts"]) == ("crm_customer_id", "opened_at")
    assert touchpoint_columns(tables["survey__responses"]) == ("email", "responded_at")
    # Rows that describe other rows are read but are no touchpoints of their own.
    assert touchpoint_columns(tables["crm__campaigns"]) is None
    assert touchpoint_columns(tables["billing__invoice_lines"]) is None


def test_the_reference_reads_every_row_and_numbers_each_partys_touchpoints_in_time_order(tmp_path):
    """The reference script on a hand-made raw schema: tables that are not landed are skipped, a table
    without touchpoints is read into one count, and each party's touchpoints are numbered by time."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.crm__campaigns as select 'c1' as campaign_id, 'x' as campaign_name")
        con.execute(
            "create table raw.survey__responses as select * from (values "
            "('r1', 'a@x', timestamptz '2024-03-02 10:00:00+00', 9), "
            "('r2', 'a@x', timestamptz '2024-03-01 10:00:00+00', 3), "
            "('r3', 'b@x', timestamptz '2024-03-01 09:00:00+02', 7)) "
            "as t(response_id, email, responded_at, score)"
        )
    script, touchpoint_tables = reference_script({"crm__campaigns", "survey__responses"})
    assert touchpoint_tables == 1 and "crm__contacts" not in script
    with duckdb.connect(str(tmp_path / "reference.duckdb")) as con:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        con.execute(script)
        assert con.execute('select n from "read_crm__campaigns"').fetchall() == [(1,)]
        rows = con.execute(
            "select party, strftime(event_at at time zone 'UTC', '%d %H'), sequence_number "
            "from reference_touchpoints order by party, sequence_number"
        ).fetchall()
    assert rows == [("a@x", "01 10", 1), ("a@x", "02 10", 2), ("b@x", "01 07", 1)]
