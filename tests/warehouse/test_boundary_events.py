"""The warehouse's rules on the events the generator planted below, at and above each seed threshold.

The expected outcome of every boundary event is the answer key's (the generator's own reading of the seed's
rule), never derived from the warehouse's SQL; the warehouse must report a poor experience for exactly the
boundary events the key calls poor.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def test_the_warehouse_fires_exactly_on_the_boundary_events_the_key_calls_poor(
    built_warehouse, small_company
):
    key = pd.read_csv(small_company.answer_key_dir / "boundary_events.csv", dtype=str)
    with duckdb.connect(str(built_warehouse), read_only=True) as con:
        hits = con.sql("select rule_id, evidence_id from marts.fct_poor_experiences").df()
    found = set(zip(hits["rule_id"], hits["evidence_id"], strict=True))
    detected = pd.Series([event in found for event in zip(key["rule_id"], key["evidence_id"], strict=True)])
    expected = key["poor"] == "true"
    wrong = key.loc[detected != expected, ["rule_id", "evidence_id", "value", "threshold", "poor"]]
    assert wrong.empty, f"boundary events the warehouse classified otherwise than the key:\n{wrong}"
    for rule, events in key.groupby("rule_id"):  # each rule's boundary is crossed: some fire, some do not
        assert detected[events.index].any() and not detected[events.index].all(), rule
