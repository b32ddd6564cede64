"""Benchmark the same models on DuckDB, PostgreSQL and Spark, on one generated company.

    python -m benchmarks.engines --customers 10000 --days 730 [--engines duckdb,postgres,spark]

Generates the company and loads it into DuckDB once, then per engine: lands the raw tables where the engine
reads them (nothing for DuckDB; `raw.lake postgres`; `raw.lake parquet` for Spark) and builds seeds and
models from scratch (`dbt build --resource-type seed --resource-type model`: the data tests would add the
same per-query cost again). Each stage runs as its own process; wall time and peak memory of the process
tree are recorded (benchmarks.bench.run_stage). Results are printed as JSON. Timings are figures, not tests.
PostgreSQL settings come from the POSTGRES_* variables (profiles.yml); Spark uses local pyspark.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from benchmarks.bench import REPO_ROOT, _bin, dbt_cmd, run_stage

SEEDS_AND_MODELS = ["build", "--resource-type", "seed", "--resource-type", "model"]


def _drop_postgres_database(dbname: str) -> None:
    import psycopg2

    from raw.lake import postgres_dsn

    con = psycopg2.connect(**postgres_dsn("postgres"))
    try:
        con.autocommit = True
        with con.cursor() as cursor:
            cursor.execute(f'drop database if exists "{dbname}" with (force)')
    finally:
        con.close()


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
    args = parser.parse_args(argv)
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
    for engine in args.engines.split(","):
        if engine == "duckdb":
            built = work / "duckdb.duckdb"
            built.write_bytes((work / "loaded.duckdb").read_bytes())
            env = {**base_env, "WAREHOUSE_PATH": str(built), "DBT_TARGET": "dev"}
        elif engine == "postgres":
            dbname = f"bench_engines_{os.getpid()}"
            env = {**base_env, "DBT_TARGET": "postgres", "POSTGRES_DB": dbname}
            stage(
                engine,
                "land",
                [python, "-m", "raw.lake", "postgres", "--warehouse", str(work / "loaded.duckdb")],
                env,
            )
        elif engine == "spark":
            env = {
                **base_env,
                "DBT_TARGET": "spark",
                "LAKE_DIR": str(work / "lake"),
                "SPARK_DIR": str(work / "spark"),
            }
            stage(
                engine,
                "land",
                [
                    python,
                    "-m",
                    "raw.lake",
                    "parquet",
                    "--warehouse",
                    str(work / "loaded.duckdb"),
                    "--lake",
                    str(work / "lake"),
                ],
                env,
            )
        else:
            parser.error(f"unknown engine {engine}")
        stage(engine, "dbt build (seeds, models)", dbt_cmd(SEEDS_AND_MODELS, work / f"dbt_{engine}"), env)
        if engine == "postgres" and not args.keep:
            _drop_postgres_database(env["POSTGRES_DB"])
    print(
        json.dumps(
            {"customers": args.customers, "days": args.days, "work": str(work), "stages": results}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    sys.exit(main())
