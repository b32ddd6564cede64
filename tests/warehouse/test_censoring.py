"""How many poor experiences does it take, whatever the length of the history.

One generated company (same seed, same size) built on a long history, on a short one, and as a snapshot of the
long one taken early in its history. The per-level rate of rpt_defection_rate_by_poor_experience_count must
not depend on how long the history is, and must cover the probability the simulation planted, read from the
generator's answer key (computed from its own hazard, never from the warehouse's SQL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from support import REPO_ROOT, run_dbt

pytestmark = pytest.mark.slow

PROJECT_VARS = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
# The smallest company whose level 3+ has enough customers on the long history for an estimate.
CUSTOMERS, SEED, START = 1500, 11, date(2024, 1, 1)
LONG_DAYS, SHORT_DAYS, SNAPSHOT_DAYS = 540, 120, 270  # the snapshot: the long history cut at its middle
MAX_GAP = 0.10  # short vs long history, for levels with at least MIN_CUSTOMERS on both
MIN_CUSTOMERS = 20
REPORT = "marts.rpt_defection_rate_by_poor_experience_count"


@dataclass(frozen=True)
class Build:
    name: str
    report: pd.DataFrame
    planted: dict[int, float]  # level -> planted probability (mean over the key's customers with a value)


def _generate(root: Path, days: int) -> tuple[Path, Path]:
    from raw.generate import generate_company

    exports, key = root / f"exports_{days}", root / f"key_{days}"
    generate_company(
        out_dir=exports,
        answer_key_dir=key,
        customers=CUSTOMERS,
        days=days,
        seed=SEED,
        start_date=START,
        progress=False,
        horizon_days=PROJECT_VARS["defection_horizon_days"],
    )
    return exports, key


def _build(root: Path, name: str, exports: Path, export_dates=None) -> pd.DataFrame:
    from raw.load import load_exports

    warehouse = root / f"{name}.duckdb"
    load_exports(warehouse, exports, export_dates)
    run_dbt(
        [
            "build",
            "--select",
            "+rpt_defection_rate_by_poor_experience_count",
            "--exclude-resource-type",
            "unit_test",
            "--exclude-resource-type",
            "test",
        ],
        warehouse,
        root / f"dbt_{name}",
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(f"select * from {REPORT} order by poor_experience_level").df()


def _planted(key: Path, reached_before: pd.Timestamp | None = None) -> dict[int, float]:
    """Mean planted probability per level over the key's customers whose window the simulation holds."""
    manifest = json.loads((key / "manifest.json").read_text())
    assert manifest["horizon_days"] == PROJECT_VARS["defection_horizon_days"]
    levels = pd.read_csv(key / "poor_experience_levels.csv")
    levels["reached_at"] = pd.to_datetime(levels.reached_at, utc=True).dt.tz_localize(None)
    if reached_before is not None:
        levels = levels[levels.reached_at < reached_before]
    levels = levels.dropna(subset=["planted_probability"])
    return levels.groupby("poor_experience_level").planted_probability.mean().to_dict()


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Build]:
    root = tmp_path_factory.mktemp("censoring")
    long_exports, long_key = _generate(root, LONG_DAYS)
    short_exports, short_key = _generate(root, SHORT_DAYS)
    from raw.load import available_export_dates

    snapshot_end = START + timedelta(days=SNAPSHOT_DAYS)
    snapshot_dates = [d for d in available_export_dates(long_exports) if d < snapshot_end]
    result = {
        "long": Build("long", _build(root, "long", long_exports), _planted(long_key)),
        "short": Build("short", _build(root, "short", short_exports), _planted(short_key)),
        "snapshot": Build(
            "snapshot",
            _build(root, "snapshot", long_exports, snapshot_dates),
            _planted(long_key, pd.Timestamp(snapshot_end)),
        ),
    }
    for build in result.values():
        print(f"\n{build.name}:")
        for row in build.report.itertuples():
            planted = build.planted.get(row.poor_experience_level)
            print(
                f"  level {row.poor_experience_level_label}: reached {row.customers_reached}, "
                f"defected {row.customers_defected}, next level {row.customers_reached_next_level}, "
                f"censored {row.customers_censored}, full follow-up {row.customers_with_full_follow_up}; "
                f"{row.estimate_status} {row.defection_rate} "
                f"[{row.defection_rate_ci_lower}, {row.defection_rate_ci_upper}]; planted {planted}"
            )
    return result


@pytest.mark.parametrize("name", ["long", "short", "snapshot"])
def test_no_level_shows_every_customer_as_defected_by_construction(builds, name):
    report = builds[name].report
    for row in report.itertuples():
        # every customer who reached the level is in it, in exactly one follow-up outcome
        assert row.customers_reached == (
            row.customers_defected
            + row.customers_reached_next_level
            + row.customers_censored
            + row.customers_at_risk_at_horizon
        )
        if row.customers_reached >= MIN_CUSTOMERS:
            assert row.customers_defected < row.customers_reached
        if row.estimate_status == "estimated":
            assert row.defection_rate < 1
    # the short histories still report the levels they cannot estimate, with their customers
    assert list(report.poor_experience_level) == [0, 1, 2, 3]


def test_a_short_history_gives_the_long_historys_rate(builds):
    long, short = builds["long"].report, builds["short"].report
    compared = 0
    for lo, sh in zip(long.itertuples(), short.itertuples(), strict=True):
        if min(lo.customers_reached, sh.customers_reached) < MIN_CUSTOMERS:
            continue
        if sh.estimate_status != "estimated":
            # a level the short history cannot estimate says so, and prints no rate to compare
            assert sh.estimate_status == "insufficient_follow_up" and pd.isna(sh.defection_rate)
            continue
        assert lo.estimate_status == "estimated"
        assert abs(sh.defection_rate - lo.defection_rate) <= MAX_GAP, lo.poor_experience_level_label
        compared += 1
    assert compared >= 2  # at least level 0 and level 1


def test_a_mid_history_snapshot_agrees_with_the_whole_history(builds):
    """The snapshot's customers are the long history's early ones (a smaller, older sample): the two
    estimates of each level both estimate must have overlapping intervals."""
    long, snapshot = builds["long"].report, builds["snapshot"].report
    compared = 0
    for lo, sn in zip(long.itertuples(), snapshot.itertuples(), strict=True):
        if lo.estimate_status == sn.estimate_status == "estimated":
            assert sn.defection_rate_ci_lower <= lo.defection_rate_ci_upper, lo.poor_experience_level_label
            assert lo.defection_rate_ci_lower <= sn.defection_rate_ci_upper, lo.poor_experience_level_label
            compared += 1
    assert compared >= 3


@pytest.mark.parametrize("name", ["long", "short", "snapshot"])
def test_each_estimated_level_covers_its_planted_probability(builds, name):
    build = builds[name]
    estimated = build.report[build.report.estimate_status == "estimated"]
    assert len(estimated) >= 2
    for row in estimated.itertuples():
        planted = build.planted[row.poor_experience_level]
        assert row.defection_rate_ci_lower <= planted <= row.defection_rate_ci_upper, (
            row.poor_experience_level_label,
            planted,
        )
