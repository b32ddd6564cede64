"""The benchmark script still runs end to end on a tiny company (figures are not asserted, only produced)."""

import json

import pytest

from benchmarks.bench import main

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
}


@pytest.mark.slow
def test_benchmark_writes_every_stage_and_figure(tmp_path):
    out_json, out_md = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    assert (
        main(
            [
                "--customers",
                "400",
                "--days",
                "90",
                "--work-dir",
                str(tmp_path / "work"),
                "--json",
                str(out_json),
                "--markdown",
                str(out_md),
            ]
        )
        == 0
    )

    (result,) = json.loads(out_json.read_text())["results"]
    assert result["customers"] == 400 and result["raw_rows"] > 0
    assert {s["stage"] for s in result["stages"]} == STAGES
    assert all(s["seconds"] > 0 and s["peak_rss_mb"] > 0 for s in result["stages"])
    figures = result["figures"]
    assert isinstance(figures["gx_all_blocking_checks_passed"], bool)
    for name in ("build_to_floor_ratio", "one_more_day_share_of_full_build", "gx_share_of_total"):
        assert figures[name] > 0
    # A reader of the publication was never refused while the next day was built and published.
    assert figures["reader_queries"] > 0 and figures["reader_errors"] == 0, figures["reader_error_samples"]
    assert "| dbt build |" in out_md.read_text()
    # The floor runs the same SQL as the build: every model, then every data test's query.
    assert figures["floor_models"] > 40 and figures["floor_data_tests"] > 100, figures


@pytest.mark.slow
def test_a_failing_stage_keeps_the_figures_measured_before_it(tmp_path, monkeypatch):
    """A stage that fails (here dbt, given a flag it does not know) ends the run with exit 1, and the JSON and
    the Markdown still hold every stage measured up to it, the failed stage's own time and peak, and why."""
    import benchmarks.bench as bench

    monkeypatch.setattr(bench, "build_flags", lambda scope: ["--no-such-dbt-flag"])
    out_json, out_md = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    argv = ["--customers", "200", "--days", "30", "--work-dir", str(tmp_path / "work")]
    assert main([*argv, "--json", str(out_json), "--markdown", str(out_md)]) == 1

    (result,) = json.loads(out_json.read_text())["results"]
    assert [s["stage"] for s in result["stages"]] == ["generate", "load", "dbt build"]
    generate, load, build = result["stages"]
    assert load["rows"] == result["raw_rows"] > 0 and load["seconds"] > 0
    assert build["note"].startswith("failed: exit") and build["seconds"] > 0 and build["peak_rss_mb"] > 0
    assert result["figures"]["failed"].startswith("stage dbt build failed"), result["figures"]
    assert any("no-such-dbt-flag" in line for line in result["figures"]["failure_output_tail"])
    assert "| dbt build |" in out_md.read_text() and "| failed |" in out_md.read_text()
