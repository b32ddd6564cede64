"""Reference data the simulation shares with the warehouse: seeds and the raw contract."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from raw.profile import DEFAULT_PROFILE as DEFAULT_COMPANY
from raw.profile import seed_folder_for

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = REPO_ROOT / "seeds"
CONTRACT = REPO_ROOT / "raw" / "contract.yml"


def _rows(name: str) -> list[dict]:
    with open(SEEDS / name, newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Reference:
    plans: list[dict]
    failure_codes: list[dict]
    rules: list[dict]
    contract: dict

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a contract table, in contract order."""
        return [(column["name"], column["type"]) for column in self.contract["tables"][table]["columns"]]

    def renamed_from(self, table: str) -> dict[str, str]:
        return {
            column["name"]: column["renamed_from"][0]
            for column in self.contract["tables"][table]["columns"]
            if column.get("renamed_from")
        }


@cache
def reference() -> Reference:
    """Seeds and contract, read once."""
    with open(CONTRACT) as handle:
        contract = yaml.safe_load(handle)
    return Reference(
        _rows("plans.csv"),
        _rows("payment_failure_codes.csv"),
        _rows("poor_experience_rules.csv"),
        contract,
    )


@cache
def rule_thresholds(company: str = DEFAULT_COMPANY) -> dict[str, float]:
    """The threshold of every rule in the company's seed poor_experience_rules.csv that has one.

    The boundary events are planted at these figures, so the generated data tests the company's own
    boundaries rather than figures of the generator's.
    """
    path = REPO_ROOT / seed_folder_for(company) / "poor_experience_rules.csv"
    with open(path, newline="") as handle:
        return {
            row["rule_id"]: float(row["threshold"])
            for row in csv.DictReader(handle)
            if row["threshold"].strip()
        }
