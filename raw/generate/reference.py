"""Reference data the simulation shares with the warehouse: seeds and the raw contract."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = REPO_ROOT / "seeds"
CONTRACT = REPO_ROOT / "raw" / "contract.yml"


def _rows(name: str) -> list[dict]:
    with open(SEEDS / name, newline="") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Reference:
    plans: list[dict]
    failure_codes: list[dict]
    rules: list[dict]
    contract: dict

    def columns(self, table: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a contract table, in contract order."""
        return [(c["name"], c["type"]) for c in self.contract["tables"][table]["columns"]]

    def renamed_from(self, table: str) -> dict[str, str]:
        return {
            c["name"]: c["renamed_from"][0]
            for c in self.contract["tables"][table]["columns"]
            if c.get("renamed_from")
        }


@cache
def reference() -> Reference:
    """Seeds and contract, read once."""
    with open(CONTRACT) as f:
        contract = yaml.safe_load(f)
    return Reference(
        _rows("plans.csv"),
        _rows("payment_failure_codes.csv"),
        _rows("poor_experience_rules.csv"),
        contract,
    )
