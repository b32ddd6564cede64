"""The company profile (companies/<name>/profile.yml): which feeds, silos, survey instruments and seeds a
company has. COMPANY_PROFILE names the company (default: demo); dbt_project.yml, the loader, the GX suites
and the main job all read the same variable, so one setting switches the whole warehouse.

`python -m raw.profile [name]` validates a profile against the raw contract and its seed folder and prints
it (exit 1 naming the problems).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from raw.contract import load_contract

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPANIES_DIR = REPO_ROOT / "companies"
DEFAULT_PROFILE = "demo"
PROFILE_ENV = "COMPANY_PROFILE"
DELIVERIES = ("daily", "snapshot")
REQUIRED_FEEDS = ("crm__customers", "crm__subscriptions")
SEEDS = (
    "plans",
    "cancel_reasons",
    "cancel_reason_vocabulary",
    "poor_experience_rules",
    "survey_instruments",
    "channel_codes",
    "payment_failure_codes",
)


class ProfileError(ValueError):
    """A profile that does not exist or does not fit the contract; the message names the file."""


@dataclass(frozen=True)
class SurveyInstrument:
    survey_type: str
    scale_min: int
    scale_max: int
    poor_at_or_below: int | None
    silo: str
    rule_id: str | None


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    currency: str
    seed_folder: Path
    delivery: str
    feeds: tuple[str, ...]
    silos: tuple[str, ...]
    path: Path
    ignore_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def survey_instruments(self) -> tuple[SurveyInstrument, ...]:
        """The survey instruments (seed survey_instruments) with the threshold of the rule judging each
        (seed poor_experience_rules): the two seeds are the single home of these figures."""
        rules = {r["rule_id"]: r for r in _seed_rows(self.seed_folder / "poor_experience_rules.csv")}
        instruments = []
        for row in _seed_rows(self.seed_folder / "survey_instruments.csv"):
            rule = rules.get(row["rule_id"]) if row["rule_id"] else None
            instruments.append(
                SurveyInstrument(
                    survey_type=row["survey_type"],
                    scale_min=int(row["scale_min"]),
                    scale_max=int(row["scale_max"]),
                    poor_at_or_below=int(float(rule["threshold"])) if rule else None,
                    silo=rule["silo"] if rule else "",
                    rule_id=row["rule_id"] or None,
                )
            )
        return tuple(instruments)

    def has_feed(self, table: str) -> bool:
        return table in self.feeds

    def has_silo(self, silo: str) -> bool:
        return silo in self.silos

    @property
    def absent_feeds(self) -> tuple[str, ...]:
        """Contract tables the company does not deliver (landed as empty raw tables)."""
        return tuple(t for t in load_contract().tables if t not in self.feeds)


def _seed_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def profile_name() -> str:
    return os.environ.get(PROFILE_ENV, "").strip() or DEFAULT_PROFILE


def seed_folder_for(name: str) -> str:
    """The seed folder dbt_project.yml's seed-paths renders for a company (the same rule, for Python)."""
    return "seeds" if name == DEFAULT_PROFILE else f"companies/{name}/seeds"


def load_profile(name: str | None = None) -> Profile:
    """The named profile (default: COMPANY_PROFILE as set now, else demo), validated. Raises ProfileError."""
    return _load_profile(name or profile_name())


@cache
def _load_profile(name: str) -> Profile:
    path = COMPANIES_DIR / name / "profile.yml"
    if not path.is_file():
        known = sorted(p.parent.name for p in COMPANIES_DIR.glob("*/profile.yml"))
        raise ProfileError(
            f"no company profile '{name}' ({path} does not exist); {PROFILE_ENV} must name one of: "
            + ", ".join(known)
        )
    with open(path, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle) or {}
    profile = Profile(
        name=str(doc.get("name", name)),
        description=str(doc.get("description", "")),
        currency=str(doc.get("currency", "")),
        seed_folder=REPO_ROOT / str(doc.get("seed_folder", seed_folder_for(name))),
        delivery=str(doc.get("delivery", "daily")),
        feeds=tuple(doc.get("feeds") or ()),
        silos=tuple(doc.get("silos") or ()),
        path=path,
        ignore_columns={t: tuple(c) for t, c in (doc.get("ignore_columns") or {}).items()},
    )
    problems = check_profile(profile, name)
    if problems:
        raise ProfileError(f"{path}: " + "; ".join(problems))
    return profile


def check_profile(profile: Profile, name: str) -> list[str]:
    """What is wrong with a profile (empty when nothing)."""
    problems = []
    if profile.name != name:
        problems.append(f"name '{profile.name}' differs from its folder '{name}'")
    if profile.seed_folder != REPO_ROOT / seed_folder_for(name):
        problems.append(f"seed_folder must be {seed_folder_for(name)} (the folder dbt_project.yml reads)")
    if len(profile.currency) != 3 or not profile.currency.isupper():
        problems.append(f"currency '{profile.currency}' is not an ISO 4217 code")
    if profile.delivery not in DELIVERIES:
        problems.append(f"delivery '{profile.delivery}' is not one of {', '.join(DELIVERIES)}")
    tables = load_contract().tables
    unknown = [f for f in profile.feeds if f not in tables]
    if unknown:
        problems.append("feeds not in raw/contract.yml: " + ", ".join(unknown))
    unknown = [t for t in profile.ignore_columns if t not in tables]
    if unknown:
        problems.append("ignore_columns names tables not in raw/contract.yml: " + ", ".join(unknown))
    missing = [f for f in REQUIRED_FEEDS if f not in profile.feeds]
    if missing:
        problems.append("the minimal export needs feeds " + ", ".join(missing))
    for seed in SEEDS:
        if not (profile.seed_folder / f"{seed}.csv").is_file():
            problems.append(f"seed {seed}.csv missing from {profile.seed_folder}")
    if problems:
        return problems
    rule_ids = {r["rule_id"] for r in _seed_rows(profile.seed_folder / "poor_experience_rules.csv")}
    for row in _seed_rows(profile.seed_folder / "survey_instruments.csv"):
        if row["rule_id"] and row["rule_id"] not in rule_ids:
            problems.append(f"survey instrument {row['survey_type']}: no rule {row['rule_id']}")
    if problems:
        return problems
    for instrument in profile.survey_instruments:
        low, high, poor = instrument.scale_min, instrument.scale_max, instrument.poor_at_or_below
        if low >= high or (poor is not None and not low <= poor < high):
            problems.append(f"survey instrument {instrument.survey_type}: poor_at_or_below outside its scale")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m raw.profile", description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", help=f"company (default: {PROFILE_ENV} or {DEFAULT_PROFILE})")
    args = parser.parse_args(argv)
    try:
        profile = load_profile(args.name)
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"company {profile.name} ({profile.path.relative_to(REPO_ROOT)}): {profile.description}")
    print(f"currency {profile.currency}; delivery {profile.delivery}; seeds {profile.seed_folder}")
    print("feeds: " + ", ".join(profile.feeds))
    print("absent feeds (landed empty): " + (", ".join(profile.absent_feeds) or "none"))
    print("silos: " + ", ".join(profile.silos))
    for i in profile.survey_instruments:
        print(f"survey {i.survey_type}: {i.scale_min}-{i.scale_max}, poor <= {i.poor_at_or_below} ({i.silo})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
