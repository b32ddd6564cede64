"""Benchmark the same models on DuckDB, PostgreSQL and Spark, on one generated company.

    python -m benchmarks.engines --customers 10000 --days 730 [--engines duckdb,postgres,spark]

Generates the company and loads it into DuckDB once, then per engine: lands the raw tables where the engine
reads them (nothing for DuckDB; `raw.lake postgres`; `raw.lake parquet` for Spark) and builds seeds and
models from scratch (`dbt build --resource-type seed --resource-type model`: the data tests would add the
same per-query cost again). Each stage runs as its own process; wall time and peak memory of the process
tree are recorded (benchmarks.bench.run_stage). Results are printed as JSON. Timings are figures, not tests.
PostgreSQL settings come from the POSTGRES_* variables (profiles.yml); Spark uses local pyspark.

    python -m benchmarks.engines --fit small.json large.json

fits, from two runs' JSON at different sizes, each engine's build time to
    seconds = fixed cost per node x nodes built + cost per raw row x raw rows
(two sizes, two unknowns: the per-row cost is the slope between them, the rest of the small run's time is
the fixed cost) and prints it as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.bench import REPO_ROOT, _bin, dbt_cmd, raw_row_count, run_stage
from raw.lake import DESTINATION_OF_TARGET, drop_postgres_database, target_env

TARGET_OF_ENGINE = {"duckdb": "dev", "postgres": "postgres", "spark": "spark"}
SEEDS_AND_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]


def _nodes_run(run_results: Path) -> int:
    """How many seeds and models the build ran (its queries, beside the hooks and source views)."""
    return len(json.loads(run_results.read_text())["results"])


BUILD_STAGE = "dbt build (seeds, models)"


def fit_cost_model(small: dict, large: dict) -> dict[str, dict[str, float]]:
    """Per engine, from two runs of this benchmark: fixed seconds per node built and microseconds per raw
    row, solving seconds = fixed x nodes + per_row x rows at both sizes."""
    fits = {}
    for engine in small["nodes_built"]:
        if engine not in large["nodes_built"]:
            continue
        times = []
        for run in (small, large):
            stage = next(s for s in run["stages"] if s["stage"] == f"{engine}: {BUILD_STAGE}")
            times.append(stage["seconds"])
        rows = (small["raw_rows"], large["raw_rows"])
        per_row = (times[1] - times[0]) / (rows[1] - rows[0])
        nodes = small["nodes_built"][engine]
        fits[engine] = {
            "nodes": nodes,
            "fixed_s_per_node": (times[0] - per_row * rows[0]) / nodes,
            "us_per_row": per_row * 1e6,
        }
    return fits


def _fit_table(small: dict, large: dict) -> str:
    lines = [
        "| engine | nodes | fixed cost per node (s) | cost per million raw rows (s) |",
        "|---|---:|---:|---:|",
    ]
    for engine, fit in fit_cost_model(small, large).items():
        lines.append(
            f"| {engine} | {fit['nodes']} | {fit['fixed_s_per_node']:.2f} | {fit['us_per_row']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.engines", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engines", default="duckdb,postgres,spark")
    parser.add_argument("--work", type=Path, help="working folder (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database it built")
    parser.add_argument(
        "--fit",
        nargs=2,
        type=Path,
        metavar=("SMALL_JSON", "LARGE_JSON"),
        help="print the cost model fitted to two earlier runs' JSON output instead of running",
    )
    args = parser.parse_args(argv)
    if args.fit:
        small, large = (json.loads(path.read_text()) for path in args.fit)
        print(_fit_table(small, large))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    python = _bin("python")
    base_env = {**os.environ, "WAREHOUSE_PATH": str(work / "loaded.duckdb")}
    results = []

    def stage(engine: str, name: str, cmd: list[str], env: dict) -> None:
        result = run_stage(f"{engine}: {name}", cmd, env)
        results.append(asdict(result))
        print(
            f"{result.stage}: {result.seconds} s, peak {result.peak_rss_mb} MB", file=sys.stderr, flush=True
        )

    exports = work / "exports"
    stage(
        "all",
        "generate",
        [
            python,
            "-m",
            "raw.generate",
            "--customers",
            str(args.customers),
            "--days",
            str(args.days),
            "--seed",
            str(args.seed),
            "--out",
            str(exports),
            "--answer-key",
            str(work / "answer_key"),
        ],
        base_env,
    )
    stage(
        "all",
        "load",
        [python, "-m", "raw.load", "--exports", str(exports), "--warehouse", str(work / "loaded.duckdb")],
        base_env,
    )
    raw_rows = raw_row_count(work / "loaded.duckdb")
    models: dict[str, int] = {}
    for engine in args.engines.split(","):
        if engine not in TARGET_OF_ENGINE:
            parser.error(f"unknown engine {engine}")
        target = TARGET_OF_ENGINE[engine]
        warehouse = work / "loaded.duckdb"
        if engine == "duckdb":  # DuckDB builds in the file it reads: a copy keeps the loaded one clean
            warehouse = work / "duckdb.duckdb"
            warehouse.write_bytes((work / "loaded.duckdb").read_bytes())
        env = {
            **os.environ,
            **target_env(
                target,
                warehouse=warehouse,
                dbname=f"bench_engines_{os.getpid()}",
                lake_dir=work / "lake",
                spark_dir=work / "spark",
            ),
        }
        if target in DESTINATION_OF_TARGET:
            stage(engine, "land", [python, "-m", "raw.lake", DESTINATION_OF_TARGET[target]], env)
        stage(engine, BUILD_STAGE, dbt_cmd(SEEDS_AND_MODELS, work / f"dbt_{engine}"), env)
        models[engine] = _nodes_run(work / f"dbt_{engine}" / "target" / "run_results.json")
        if engine == "postgres" and not args.keep:
            drop_postgres_database(env["POSTGRES_DB"])
    print(
        json.dumps(
            {
                "customers": args.customers,
                "days": args.days,
                "raw_rows": raw_rows,
                "nodes_built": models,
                "work": str(work),
                "stages": results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
