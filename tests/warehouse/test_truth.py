"""The marts against the generator's answer key: the warehouse must recover what the simulation planted.

The answer key is read here only, never by a model. Every figure derived from the key uses the definitions of
docs/definitions.md and the dbt project vars, so both sides answer the same question.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_VARS = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
LOOKBACK = pd.Timedelta(days=PROJECT_VARS["lookback_days"])
HORIZON = pd.Timedelta(days=PROJECT_VARS["defection_horizon_days"])
MIN_RECALL = MIN_PRECISION = 0.95

pytestmark = pytest.mark.slow


def _utc(series: pd.Series) -> pd.Series:
    """Key timestamps (ISO with +00:00) as naive UTC, like the warehouse's."""
    return pd.to_datetime(series, utc=True).dt.tz_localize(None)


def _key(company, name: str) -> pd.DataFrame:
    frame = pd.read_csv(company.answer_key_dir / f"{name}.csv", dtype=str, keep_default_na=False)
    return frame.replace("", None)


def _mart(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).df()


def _recall_precision(truth: set, found: set) -> tuple[float, float]:
    hits = len(truth & found)
    recall = hits / len(truth) if truth else 1.0
    precision = hits / len(found) if found else 1.0
    return recall, precision


def _report(name: str, truth: set, found: set) -> tuple[float, float]:
    recall, precision = _recall_precision(truth, found)
    print(
        f"\n{name}: truth={len(truth)} found={len(found)} matched={len(truth & found)} "
        f"recall={recall:.4f} precision={precision:.4f}"
    )
    return recall, precision


def test_poor_experiences_match_the_key(built_warehouse, small_company):
    key = _key(small_company, "poor_experiences")
    truth = set(zip(key.customer_id, key.kind, key.silo, _utc(key.occurred_at).dt.floor("s"), strict=True))
    mart = _mart(
        built_warehouse, "select customer_id, kind, silo, occurred_at from marts.fct_poor_experiences"
    )
    found = set(
        zip(
            mart.customer_id,
            mart.kind,
            mart.silo,
            pd.to_datetime(mart.occurred_at).dt.floor("s"),
            strict=True,
        )
    )
    recall, precision = _report("poor experiences", truth, found)
    for kind in sorted(set(key.kind) | set(mart.kind)):
        kind_recall, kind_precision = _recall_precision(
            {row for row in truth if row[1] == kind}, {row for row in found if row[1] == kind}
        )
        print(f"  {kind:<26} recall={kind_recall:.3f} precision={kind_precision:.3f}")
    assert recall >= MIN_RECALL
    assert precision >= MIN_PRECISION


def test_defection_counts_are_exact(built_warehouse, small_company):
    key = _key(small_company, "defections")
    mart = _mart(built_warehouse, "select defection_type from marts.fct_defections")
    print(f"\ndefections: key={len(key)} mart={len(mart)}")
    assert len(mart) == len(key)
    assert mart.defection_type.value_counts().to_dict() == key.defection_type.value_counts().to_dict()


def _hidden_defectors_from_key(company) -> set[str]:
    """Customers with a defection that had a planted poor experience and no complaint in its window."""
    defections = _key(company, "defections")
    defections["defected_at"] = _utc(defections.defected_at)
    poor = _key(company, "poor_experiences")
    poor["occurred_at"] = _utc(poor.occurred_at)
    complaints = _key(company, "complaints")
    complaints["complained_at"] = _utc(complaints.complained_at)

    def any_in_window(events: pd.DataFrame, time_column: str) -> pd.Series:
        joined = defections.reset_index().merge(events[["customer_id", time_column]], on="customer_id")
        at = joined[time_column]
        inside = (at > joined.defected_at - LOOKBACK) & (at <= joined.defected_at)
        hit = set(joined.loc[inside, "index"])
        return defections.index.to_series().isin(hit)

    hidden = any_in_window(poor, "occurred_at") & ~any_in_window(complaints, "complained_at")
    return set(defections.loc[hidden, "customer_id"])


def test_hidden_defectors_match_the_key(built_warehouse, small_company):
    truth = _hidden_defectors_from_key(small_company)
    mart = _mart(built_warehouse, "select customer_id from marts.dim_customers where is_hidden_defector")
    recall, precision = _report("hidden defectors", truth, set(mart.customer_id))
    assert recall >= MIN_RECALL
    assert precision >= MIN_PRECISION


def _planted_level_probabilities(company) -> dict[int, tuple[int, int, float]]:
    """Per level: (customers in the key, those whose window the simulation holds, their mean planted chance).

    The planted probability is the generator's own: each customer's chance, under the weekly hazard it drew
    from, of defecting within the horizon after exactly that level (raw/generate/defection.py).
    """
    manifest = json.loads((company.answer_key_dir / "manifest.json").read_text())
    assert manifest["horizon_days"] == HORIZON.days
    levels = pd.read_csv(company.answer_key_dir / "poor_experience_levels.csv")
    out = {}
    for level, rows in levels.groupby("poor_experience_level"):
        held = rows.planted_probability.dropna()
        out[level] = (len(rows), len(held), held.mean() if len(held) else float("nan"))
    return out


def test_planted_probability_per_level_lies_in_the_marts_interval(built_warehouse, small_company):
    planted = _planted_level_probabilities(small_company)
    mart = _mart(
        built_warehouse,
        "select * from marts.rpt_defection_rate_by_poor_experience_count order by poor_experience_level",
    )
    assert list(mart.poor_experience_level) == [0, 1, 2, 3]
    estimated = 0
    for row in mart.itertuples():
        in_key, held, probability = planted[row.poor_experience_level]
        print(
            f"\nlevel {row.poor_experience_level_label}: planted {probability:.4f} over {held} of {in_key} "
            f"customers; mart {row.estimate_status} {row.defection_rate} "
            f"[{row.defection_rate_ci_lower}, {row.defection_rate_ci_upper}] of {row.customers_reached} "
            f"reached, {row.customers_censored} censored"
        )
        # the warehouse finds the key's levels, up to the poor experiences it cannot see (recall above)
        assert abs(row.customers_reached - in_key) <= 0.05 * in_key
        if row.estimate_status == "estimated":
            estimated += 1
            assert row.defection_rate_ci_lower <= probability <= row.defection_rate_ci_upper
    assert estimated >= 3


def test_downgrades_match_the_key(built_warehouse, small_company):
    key = _key(small_company, "downgrades")
    truth = set(
        zip(key.subscription_id, key.from_plan_code, key.to_plan_code, _utc(key.downgraded_at), strict=True)
    )
    mart = _mart(
        built_warehouse,
        "select subscription_id, from_plan_code, to_plan_code, downgraded_at from marts.fct_downgrades",
    )
    found = set(
        zip(
            mart.subscription_id,
            mart.from_plan_code,
            mart.to_plan_code,
            pd.to_datetime(mart.downgraded_at),
            strict=True,
        )
    )
    recall, precision = _report("downgrades", truth, found)
    assert recall >= MIN_RECALL
    assert precision >= MIN_PRECISION
