"""The second company, Harbor, end to end to publication, against its own answer key.

Harbor (raw/generate/harbor.py, companies/harbor/) is shaped unlike the demo: CRM and survey feeds only,
one 0-10 satisfaction instrument without invitations, USD, its own plan codes, free-text-only cancel reasons
and its whole history in one snapshot folder with an explicit as-of date. The main job
(`python -m orchestration.run --as-of`) runs it under COMPANY_PROFILE=harbor, in its own process, through
load, dbt build, every GX gate and publication; the published marts are then compared with the answer key
the generator wrote from its own parameters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_VARS = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
LOOKBACK = pd.Timedelta(days=PROJECT_VARS["lookback_days"])
HARBOR = {"customers": 300, "days": 120, "seed": 11, "start_date": date(2024, 1, 1)}
MIN_RECALL = MIN_PRECISION = 0.95

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def harbor(tmp_path_factory) -> dict:
    """Harbor generated, then loaded, built, gated and published by the main job in a process of its own."""
    from raw.generate.harbor import as_of_date, generate_harbor

    root = tmp_path_factory.mktemp("harbor")
    generate_harbor(root / "exports", root / "answer_key", progress=False, **HARBOR)
    as_of = as_of_date(HARBOR["start_date"], HARBOR["days"])
    env = {
        **os.environ,
        "COMPANY_PROFILE": "harbor",
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "EXPORTS_DIR": str(root / "exports"),
        "SERVING_DIR": str(root / "serving"),
        "ALERTS_PATH": str(root / "alerts.log"),
        "GX_DIR": str(root / "gx"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "DBT_TARGET_PATH": str(root / "dbt_target"),
    }
    (root / "dagster_home").mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "orchestration.run", "--as-of", as_of.isoformat()],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return {"root": root, "run": run, "as_of": as_of, "key": root / "answer_key"}


def _marts(harbor: dict, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(harbor["root"] / "serving" / "marts.duckdb"), read_only=True) as con:
        return con.sql(sql).df()


def _warehouse(harbor: dict, sql: str) -> list[tuple]:
    with duckdb.connect(str(harbor["root"] / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def _key(harbor: dict, name: str) -> pd.DataFrame:
    return pd.read_csv(harbor["key"] / f"{name}.csv", dtype=str, keep_default_na=False).replace("", None)


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.tz_localize(None)


def _recall_precision(name: str, truth: set, found: set) -> tuple[float, float]:
    hits = len(truth & found)
    recall = hits / len(truth) if truth else 1.0
    precision = hits / len(found) if found else 1.0
    print(f"\n{name}: truth={len(truth)} found={len(found)} recall={recall:.3f} precision={precision:.3f}")
    return recall, precision


def test_the_main_job_publishes_harbor_as_of_its_snapshot_date(harbor):
    run = harbor["run"]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert f"as-of date {harbor['as_of']} recorded" in run.stdout
    info = _marts(harbor, "select warehouse_as_of_date from marts.publication_info")
    assert [pd.Timestamp(d).date() for d in info.warehouse_as_of_date] == [harbor["as_of"]]


def test_every_delivered_row_landed_and_absent_feeds_are_empty(harbor):
    manifest = json.loads((harbor["key"] / "manifest.json").read_text())
    assert _warehouse(harbor, "select count(*) from raw.load_audit where status = 'refused'") == [(0,)]
    assert _warehouse(
        harbor, "select count(*) from raw.load_audit where rows_delivered <> rows_loaded + rows_quarantined"
    ) == [(0,)]
    assert _warehouse(harbor, "select count(*) from raw.load_quarantine") == [(0,)]
    for table in ("billing__invoices", "billing__payments", "crm__appointments", "survey__invitations"):
        assert table not in manifest["feeds"]
        assert _warehouse(harbor, f"select count(*) from raw.{table}") == [(0,)], table
    tiers = _warehouse(harbor, "select count(*), count(_extras->>'loyalty_tier') from raw.crm__customers")[0]
    assert tiers[0] > 0 and tiers[1] > 0


def test_customers_and_defections_match_the_key(harbor):
    key = _key(harbor, "defections")
    customers = _marts(harbor, "select count(*) as n from marts.dim_customers").n[0]
    assert customers == HARBOR["customers"]
    mart = _marts(harbor, "select customer_id, episode_number, defection_type from marts.fct_defections")
    truth = set(zip(key.customer_id, key.episode_number.astype(int), key.defection_type, strict=True))
    found = set(zip(mart.customer_id, mart.episode_number.astype(int), mart.defection_type, strict=True))
    print(f"\ndefections: key={len(truth)} mart={len(found)}")
    assert truth and found == truth


def test_stated_reasons_typed_as_free_text_are_classified_as_the_key_says(harbor):
    """Harbor's agents typed every reason as free text; the mart's stated category must be the category of the
    reason the simulation chose (Harbor's seed cancel_reasons maps reason code -> category)."""
    categories = pd.read_csv(REPO_ROOT / "companies" / "harbor" / "seeds" / "cancel_reasons.csv")
    category = dict(zip(categories.cancel_reason_code, categories.reason_category, strict=True))
    key = _key(harbor, "defections").dropna(subset=["cancel_reason_code"])
    truth = {
        (c, int(e), category[r])
        for c, e, r in zip(key.customer_id, key.episode_number, key.cancel_reason_code, strict=True)
    }
    mart = _marts(
        harbor,
        "select customer_id, episode_number, cancel_reason_code, stated_reason_category "
        "from marts.fct_defections",
    )
    found = set(
        zip(mart.customer_id, mart.episode_number.astype(int), mart.stated_reason_category, strict=True)
    )
    assert truth, "the key holds no stated reason"
    assert mart.cancel_reason_code.isna().all(), "Harbor delivers no reason codes"
    assert truth <= found


def test_poor_experiences_match_the_key_in_harbors_silos(harbor):
    key = _key(harbor, "poor_experiences")
    truth = set(zip(key.customer_id, key.kind, key.silo, _utc(key.occurred_at).dt.floor("s"), strict=True))
    mart = _marts(harbor, "select customer_id, kind, silo, occurred_at from marts.fct_poor_experiences")
    found = set(
        zip(
            mart.customer_id,
            mart.kind,
            mart.silo,
            pd.to_datetime(mart.occurred_at).dt.floor("s"),
            strict=True,
        )
    )
    recall, precision = _recall_precision("poor experiences", truth, found)
    assert {"low_satisfaction", "long_wait"} <= set(key.kind)
    assert not set(mart.silo) & {"billing", "installation"}
    assert recall >= MIN_RECALL and precision >= MIN_PRECISION


def test_silos_lost_match_the_key(harbor):
    """Last-touch silo of each defection: the silo of the latest planted poor experience in its window (any of
    them when several happened at the same instant, e.g. a fault case opened with a long wait)."""
    defections = _key(harbor, "defections")
    defections["defected_at"] = _utc(defections.defected_at)
    poor = _key(harbor, "poor_experiences")
    poor["occurred_at"] = _utc(poor.occurred_at).dt.floor("s")
    joined = defections.merge(poor[["customer_id", "silo", "occurred_at"]], on="customer_id")
    inside = joined[
        (joined.occurred_at > joined.defected_at - LOOKBACK) & (joined.occurred_at <= joined.defected_at)
    ]
    latest = inside.groupby(["customer_id", "episode_number"]).occurred_at.transform("max")
    allowed: dict[tuple[str, int], set[str]] = {}
    for row in inside[inside.occurred_at == latest].itertuples():
        allowed.setdefault((row.customer_id, int(row.episode_number)), set()).add(row.silo)
    mart = _marts(
        harbor,
        "select customer_id, episode_number, last_touch_silo from marts.fct_defections "
        "where last_touch_silo <> 'none'",
    )
    found = {
        (c, int(e)): s
        for c, e, s in zip(mart.customer_id, mart.episode_number, mart.last_touch_silo, strict=True)
    }
    print(f"\nlast-touch silos: key={allowed} mart={found}")
    assert allowed, "no defection in the key follows a poor experience"
    assert set(found) == set(allowed)
    assert all(found[d] in allowed[d] for d in found)


def test_defection_rate_and_downgrades_match_the_key(harbor):
    key = _key(harbor, "defections")
    rate = _marts(
        harbor, "select avg(case when has_defected then 1.0 else 0.0 end) as r from marts.dim_customers"
    )
    assert rate.r[0] == pytest.approx(key.customer_id.nunique() / HARBOR["customers"], abs=0.01)
    downgrades = _key(harbor, "downgrades")
    mart = _marts(harbor, "select subscription_id, from_plan_code, to_plan_code from marts.fct_downgrades")
    truth = set(
        zip(downgrades.subscription_id, downgrades.from_plan_code, downgrades.to_plan_code, strict=True)
    )
    assert set(zip(mart.subscription_id, mart.from_plan_code, mart.to_plan_code, strict=True)) == truth
