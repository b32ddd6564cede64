"""Raw landing: one multi_asset loads every export day folder not loaded yet into schema raw, then gates it.

Asset keys are the dbt source keys (read from the manifest through the translator) so the raw assets and the
dbt graph are one graph. The asset is not partitioned by day: one run loads whatever days are new (the first
load of years of history, or the one day a daily schedule finds), so Dagster records one event per table per
run instead of one per table per day (a partition per day cost two events per table per day around a load
that takes seconds). Which days are loaded is the loader's record (`raw.load_audit`).

Each table's GX suite runs in the same step on every loaded day that has not passed its gate yet (the new
days, days still rejected, re-deliveries), and the verdict is kept per day (orchestration/export_days.py): a
blocking failure fails the step, so nothing downstream runs, and the dbt build refuses to start while any
loaded day is rejected, whoever starts it.
"""

import time
from collections import defaultdict
from datetime import date

import dagster as dg

from expectations.registry import has_suite
from expectations.runtime import GxRunner
from orchestration import export_days as day_gates
from orchestration.dbt_assets import source_asset_keys
from orchestration.gx_gate import BLOCKING_CHECK, FAILURES_KEY, check_specs, run_gate
from orchestration.progress import report, timed
from orchestration.recovery import tag_run_process
from orchestration.resources import FoldersResource, WarehouseResource
from raw.contract import load_contract
from raw.load import ContractError, available_export_dates, load_exports, misnamed_day_folders

RAW_SCHEMA = "raw"


def raw_asset_keys() -> dict[str, dg.AssetKey]:
    """Table in schema raw -> asset key: the dbt source's key, else [system, entity] like dagster-dbt's.

    Contract tables always have an asset; the loader's own tables (load_audit, load_quarantine) too when
    dbt declares them as sources, since this step writes them.
    """
    from_dbt = source_asset_keys(RAW_SCHEMA)
    keys = {}
    for table, spec in load_contract().tables.items():
        keys[table] = from_dbt.get(table) or dg.AssetKey([spec.system, table.split("__", 1)[1]])
    for table, key in from_dbt.items():
        keys.setdefault(table, key)
    return keys


def _describe(table: str) -> tuple[str, dict]:
    spec = load_contract().tables.get(table)
    if spec is None:
        return f"Written by the raw loader: {table}.", {"table": f"{RAW_SCHEMA}.{table}"}
    return spec.description, {"table": f"{RAW_SCHEMA}.{table}", "grain": spec.grain}


_KEYS = raw_asset_keys()

# Transient trouble (a file still being written, a share briefly away) heals by waiting; contract breaks
# raise Failure(allow_retries=False) instead and are never retried.
RAW_RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


class RawLoadConfig(dg.Config):
    """Which export days a run loads (launchpad: ops: raw_exports: config: ...).

    By default every day folder not loaded yet, plus loaded days not cleared by the gate (a corrected
    re-delivery replaces them). `first_day` / `last_day` (YYYY-MM-DD) bound the days considered (e.g. an
    as-of date); `days` names days to load again whatever the loader recorded.
    """

    first_day: str | None = None
    last_day: str | None = None
    days: list[str] = []


def days_to_load(
    available: list[date], loaded: set[date], uncleared: set[date], skipped: set[date], config: RawLoadConfig
) -> list[date]:
    """The export day folders this run loads."""
    first = date.fromisoformat(config.first_day) if config.first_day else date.min
    last = date.fromisoformat(config.last_day) if config.last_day else date.max
    in_bounds = [d for d in available if first <= d <= last and d not in skipped]
    if config.days:
        wanted = {date.fromisoformat(d) for d in config.days}
        missing = sorted(wanted - set(available))
        if missing:
            raise dg.Failure(
                description=f"no export folder for {', '.join(map(str, missing))}", allow_retries=False
            )
        return sorted(wanted)
    return [d for d in in_bounds if d not in loaded or d in uncleared]


def _day_list(days: list[date]) -> str:
    return "(" + ", ".join(f"date '{d.isoformat()}'" for d in days) + ")" if days else "(null)"


def _span(days: list[date]) -> str:
    return f"{days[0]}..{days[-1]} ({len(days)} days)" if days else "none"


@dg.multi_asset(
    name="raw_exports",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw",
            description=_describe(table)[0],
            metadata=_describe(table)[1],
            kinds={"duckdb"},
        )
        for table, key in _KEYS.items()
    ],
    check_specs=[
        spec for table, key in _KEYS.items() if has_suite("raw", table) for spec in check_specs(key, table)
    ],
    retry_policy=RAW_RETRY,
    pool="duckdb_warehouse",
)
def raw_exports(
    context: dg.AssetExecutionContext,
    config: RawLoadConfig,
    warehouse: WarehouseResource,
    folders: FoldersResource,
):
    """Load the export days not loaded yet (one loader call), then GX-check every day not cleared yet."""
    tag_run_process(context)
    misnamed = misnamed_day_folders(folders.exports)
    if misnamed:
        # A day folder spelled otherwise would be skipped without a word; its rows must not go missing.
        raise dg.Failure(
            description="export folders not named YYYY-MM-DD: "
            + "; ".join(f"{r.source_file} {r.reason}" for r in misnamed),
            allow_retries=False,
            metadata={"refused_files": [r.source_file for r in misnamed]},
        )
    available = available_export_dates(folders.exports)
    if not available:
        raise dg.Failure(
            description=f"no export day folders (YYYY-MM-DD) under {folders.exports}: check EXPORTS_DIR",
            allow_retries=False,
        )
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with warehouse.connect() as con:
        loaded = day_gates.loaded_days(con)
        uncleared = set(day_gates.days_to_gate(con))
        days = days_to_load(available, loaded, uncleared, day_gates.skipped_days(con), config)
        report(context, f"load: export days {_span(days)} from {folders.exports}")
        results = []
        with timed() as load_time:
            try:
                # One call for every day: the loader batches whole days per transaction.
                results = load_exports(con, folders.exports, days) if days else []
            except ContractError as exc:
                raise dg.Failure(
                    description=str(exc),
                    allow_retries=False,
                    metadata={"refused_files": [r.source_file for r in exc.refused]},
                ) from exc
        report(
            context,
            f"load: {len(results)} files, {sum(r.rows_loaded for r in results):,} rows loaded, "
            f"{sum(r.rows_quarantined for r in results):,} quarantined, "
            f"{sum(r.status == 'unchanged' for r in results)} files unchanged, in {load_time():.1f}s",
        )
        changed = {r.export_date for r in results if r.status != "unchanged"}
        # A re-delivered day is judged again, even one that had passed or been accepted.
        day_gates.forget(con, changed & (loaded - uncleared))
        for r in results:
            counts = totals[r.table_name]
            counts["files"] += 1
            counts["rows_delivered"] += r.rows_delivered
            counts["rows_loaded"] += r.rows_loaded
            counts["rows_quarantined"] += r.rows_quarantined

        for table, key in _KEYS.items():
            counts = totals.get(table, {})
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "export_days": _span(days),
                    "files": counts.get("files", 0),
                    "rows_delivered": counts.get("rows_delivered", 0),
                    "rows_loaded": counts.get("rows_loaded", 0),
                    "rows_quarantined": counts.get("rows_quarantined", 0),
                },
            )

        gated = day_gates.days_to_gate(con)
        report(context, f"raw gate: checking export days {_span(gated)}")
        gate_started = time.monotonic()
        runner = GxRunner(folders.gx)
        rejected: dict[date, list[str]] = defaultdict(list)
        for table, key in _KEYS.items():
            if not has_suite("raw", table):
                continue
            relation = f"{RAW_SCHEMA}.{table}"
            outcome, results = run_gate(
                runner, con, "raw", table, relation, key, where=f"_export_date in {_day_list(gated)}"
            )
            if not outcome.passed:
                for day in _failing_days(runner, con, table, relation, key, gated):
                    rejected[day].append(outcome_reason(outcome, results))
                context.log.error(
                    f"GX raw/{table} failed on export days {_span(gated)}:\n{outcome.summary()}"
                )
            yield from results
        runner.build_docs()
        passed = [d for d in gated if d not in rejected]
        day_gates.record(con, passed, day_gates.PASSED, None, context.run.run_id)
        for day, reasons in rejected.items():
            day_gates.record(con, [day], day_gates.REJECTED, "; ".join(reasons), context.run.run_id)
        report(
            context,
            f"raw gate: {len(passed)} days passed, {len(rejected)} rejected"
            + (f" ({', '.join(map(str, sorted(rejected)))})" if rejected else "")
            + f", in {time.monotonic() - gate_started:.1f}s",
        )
        blocking = day_gates.blocking_days(con) if rejected else {}
    if blocking:
        # Failure (not only the failed checks) so that the run's own message says which day and why, and
        # so the retry policy does not load the same broken delivery again.
        raise dg.Failure(description=day_gates.blocking_message(blocking), allow_retries=False)


def outcome_reason(outcome, results: list[dg.AssetCheckResult]) -> str:
    """Why a table's gate failed, in one line: each failed check with its figure, bound and suite file
    (gx_gate.explain), else the failed expectations' names."""
    for result in results:
        if result.check_name == BLOCKING_CHECK:
            explained = result.metadata.get(FAILURES_KEY)
            lines = getattr(explained, "value", explained)
            if lines:
                return "; ".join(lines)
    return ", ".join(f.label() for f in outcome.blocking_failures)


def _failing_days(runner, con, table, relation, key, days: list[date]) -> list[date]:
    """Which of `days` fail the table's gate on their own (only asked when the gate failed on all of them)."""
    if len(days) <= 1:
        return list(days)
    from expectations.registry import build_suite
    from expectations.suite import SuiteContext

    failing = []
    for day in days:
        where = f"_export_date = date '{day.isoformat()}'"
        suite = build_suite("raw", table, SuiteContext(relation=relation, where=where)).bound(relation, where)
        if not runner.validate(con, suite).passed:
            failing.append(day)
    # A failure of the whole (e.g. the table's row count) that no single day shows stays on every day.
    return failing or list(days)
