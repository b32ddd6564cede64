"""A second, differently shaped company: Harbor, a US broadband, TV and wireless provider.

Harbor delivers what many real companies can: its CRM and one survey tool, no billing system export and no
field-service (appointment) feed. Its survey is one 0-10 satisfaction instrument, answered by e-mail
without an invitations export (a response names its survey itself). Prices are in USD, its plans have its
own codes and tiers, agents type cancel reasons as free text only, in varied everyday wording, and its
history arrives as one snapshot folder taken the day after the as-of date. companies/harbor/ is its profile.

The same simulation as the demo company runs underneath (raw/generate/company.py), with the rates of what
Harbor cannot observe set to zero: without appointments there are no installation or technician-promise
events, without billing no billing poor experiences, and without a subscription price no broken offer. The
exports are then shaped as Harbor delivers them, and the answer key is rewritten by the same mappings (plan
codes, survey rule), so it remains the simulation's own truth, never derived from the warehouse.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from .company import GenerationSummary, generate_company
from .config import SimulationConfig
from .defection import REASONS, TEXTS
from .reference import reference

NAME = "harbor"
CURRENCY = "USD"
# The feeds Harbor delivers (companies/harbor/profile.yml lists the same).
FEEDS = (
    "crm__campaigns",
    "crm__customers",
    "crm__subscriptions",
    "crm__cases",
    "crm__contacts",
    "survey__surveys",
    "survey__responses",
)
# Columns of a delivered table Harbor's exports do not carry.
DROPPED_COLUMNS = {
    "crm__subscriptions": {"monthly_price_minor", "currency", "cancel_reason_code"},
    "crm__cases": {"channel"},
    "survey__responses": {"invitation_id"},
}
# Extra columns of Harbor's CRM the contract does not know: kept by the loader in _extras.
EXTRA_COLUMNS = {"crm__customers": ("loyalty_tier",)}
PLAN_CODES = {
    "BB_BASIC": "FIBER_100",
    "BB_PLUS": "FIBER_500",
    "BB_MAX": "FIBER_GIG",
    "TV_BASIC": "TV_LOCALS",
    "TV_PLUS": "TV_EVERYTHING",
    "MOB_S": "WIRELESS_5GB",
    "MOB_L": "WIRELESS_UNLIMITED",
}
# The one survey instrument: the simulation's relationship survey, asked as satisfaction on 0-10.
SURVEY = ("SV_NPS", "SV_SATISFACTION", "SATISFACTION", "From 0 to 10, how satisfied are you with Harbor?")
SURVEY_RULE = ("nps_detractor", "low_satisfaction")
# How Harbor's agents write each reason: free text only, in several wordings per reason (the vocabulary in
# companies/harbor/seeds/cancel_reason_vocabulary.csv holds the phrases these contain).
WORDING = {
    "PRICE": [
        "Customer says the monthly bill is too high",
        "cant afford it anymore after the rate went up",
        "PRICE INCREASE - cust not happy",
        "says it's too pricey for what they get",
        "found the cost unreasonable",
    ],
    "SERVICE": [
        "internet keeps dropping every night",
        "Slow speeds, never gets what was promised",
        "outages all week, fed up",
        "wifi connection unreliable",
        "tv signal keeps freezing",
    ],
    "INSTALL": [
        "tech never showed for the install",
        "installation was a mess",
        "installer damaged the wall",
    ],
    "CARE": [
        "waited on hold for an hour, done with us",
        "rep was rude on the phone",
        "no one ever called back about the ticket",
        "bad customer service overall",
    ],
    "COMPETITOR": [
        "switching to Comcast, better promo",
        "going with a competitor",
        "got a better offer from another provider",
        "switched to fiber from AT&T",
    ],
    "MOVING": [
        "relocating out of state",
        "moved to an area we don't serve",
        "Moving - new address outside footprint",
    ],
    "NON_PAYMENT": [
        "collections: account closed for non-payment",
        "nonpayment disconnect",
    ],
    "OTHER": [
        "cust did not say",
        "n/a",
        "personal reasons",
    ],
}
_TEXT_REASON = {text: REASONS[index] for index, texts in TEXTS.items() for text in texts}


def harbor_config(untidy: bool = False) -> SimulationConfig:
    """The simulation with nothing planted that Harbor's feeds could not show, and Harbor's own care and
    survey habits: more cases and care trouble, a satisfaction survey sent to most customers."""
    return replace(
        SimulationConfig(untidy=untidy),
        cases_per_year=3.0,
        long_wait_rate=0.12,
        many_transfers_rate=0.1,
        repeat_contact_rate=0.12,
        nps_invite_rate=0.8,
        response_rate=0.6,
        offer_not_honoured_rate=0.0,
        late_arrival_rate=0.0,
        no_show_rate=0.0,
        missing_tool_rate=0.0,
        property_damage_rate=0.0,
        tech_promise_rate=0.0,
        repair_rate=0.0,
        visit_fee_rate=0.0,
        promo_not_applied_rate=0.0,
        overcharge_rate=0.0,
        company_payment_failure_rate=0.0,
        csat_contact_invite_rate=0.0,
        csat_visit_invite_rate=0.0,
    )


def as_of_date(start_date: date, days: int) -> date:
    """The day Harbor's snapshot is complete through: the simulation's last day."""
    return start_date + timedelta(days=days - 1)


def generate_harbor(
    out_dir: Path,
    answer_key_dir: Path,
    customers: int,
    days: int,
    seed: int,
    start_date: date = date(2024, 1, 1),
    progress: bool = True,
) -> GenerationSummary:
    """Simulate Harbor and write one snapshot folder (named the day after the as-of date) plus its key."""
    out_dir, answer_key_dir = Path(out_dir), Path(answer_key_dir)
    as_of = as_of_date(start_date, days)
    snapshot = out_dir / (as_of + timedelta(days=1)).isoformat()
    if snapshot.exists():
        raise FileExistsError(f"{snapshot} exists: Harbor's snapshot is written into a new folder")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2027]))
    with tempfile.TemporaryDirectory(prefix="harbor-") as work:
        daily = Path(work) / "exports"
        summary = generate_company(
            out_dir=daily,
            answer_key_dir=answer_key_dir,
            customers=customers,
            days=days,
            seed=seed,
            start_date=start_date,
            config=harbor_config(),
            progress=progress,
            company=NAME,
            rule_aliases={SURVEY_RULE[0]: SURVEY_RULE[1]},
        )
        snapshot.mkdir(parents=True)
        surveys = _survey_emails(daily)
        for table in FEEDS:
            _write_snapshot_table(daily, snapshot, table, rng, surveys)
    _rewrite_key(answer_key_dir, as_of)
    return summary


def _renames(table: str) -> dict[str, str]:
    """Earlier header names of a table -> contract names (the source's mid-period schema change)."""
    return {old: new for new, old in reference().renamed_from(table).items()}


def _day_rows(daily: Path, table: str):
    """Every row of a table over all day folders, oldest first, under the contract's column names."""
    renames = _renames(table)
    for day in sorted(folder for folder in daily.iterdir() if folder.is_dir()):
        path = day / f"{table}.csv"
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                yield {renames.get(name, name): value for name, value in row.items()}


def _survey_emails(daily: Path) -> dict[str, tuple[str, str]]:
    """invitation_id -> (survey_id, e-mail): what a response names itself when there is no invitation feed."""
    rows = _day_rows(daily, "survey__invitations")
    return {row["invitation_id"]: (row["survey_id"], row["email"]) for row in rows}


def _write_snapshot_table(
    daily: Path, snapshot: Path, table: str, rng: np.random.Generator, invitations: dict
) -> None:
    columns = [
        column for column, _ in reference().columns(table) if column not in DROPPED_COLUMNS.get(table, set())
    ]
    columns += EXTRA_COLUMNS.get(table, ())
    with open(snapshot / f"{table}.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in _day_rows(daily, table):
            shaped = _shape(table, row, rng, invitations)
            if shaped is not None:
                writer.writerow(shaped)


def _shape(table: str, row: dict, rng: np.random.Generator, invitations: dict) -> dict | None:
    """One row as Harbor exports it (None: a row Harbor's systems do not have)."""
    if table == "crm__campaigns":
        row["promised_plan_code"] = PLAN_CODES[row["promised_plan_code"]]
        row["currency"] = CURRENCY
    elif table == "crm__customers":
        row["loyalty_tier"] = ("SILVER", "GOLD", "")[int(rng.integers(0, 3))]
    elif table == "crm__subscriptions":
        row["plan_code"] = PLAN_CODES[row["plan_code"]]
        reason = row.get("cancel_reason_code") or _TEXT_REASON.get(row.get("cancel_reason_text") or "")
        wordings = WORDING.get(reason or "", [])
        row["cancel_reason_text"] = wordings[int(rng.integers(0, len(wordings)))] if wordings else ""
    elif table == "survey__surveys":
        if row["survey_id"] != SURVEY[0]:
            return None
        row.update(survey_id=SURVEY[1], survey_type=SURVEY[2], question=SURVEY[3])
    elif table == "survey__responses":
        survey_id, invited_email = invitations.get(row["invitation_id"], (None, ""))
        if survey_id != SURVEY[0]:
            return None  # only the satisfaction survey exists at Harbor
        row["survey_id"] = SURVEY[1]
        row["email"] = row.get("email") or invited_email
    return row


def _rewrite_key(answer_key_dir: Path, as_of: date) -> None:
    """The answer key under Harbor's names: plan codes, and the survey rule judging its instrument."""
    plans = {"from_plan_code": PLAN_CODES, "to_plan_code": PLAN_CODES}
    _rewrite_csv(answer_key_dir / "downgrades.csv", plans)
    _rewrite_csv(answer_key_dir / "poor_experiences.csv", {"kind": {SURVEY_RULE[0]: SURVEY_RULE[1]}})
    manifest_path = answer_key_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.update(
        company=NAME,
        currency=CURRENCY,
        delivery="snapshot",
        as_of_date=as_of.isoformat(),
        feeds=list(FEEDS),
        plan_codes=PLAN_CODES,
        survey_rule={SURVEY_RULE[0]: SURVEY_RULE[1]},
    )
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _rewrite_csv(path: Path, mappings: dict[str, dict[str, str]]) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [
            {column: mappings.get(column, {}).get(value, value) for column, value in row.items()}
            for row in reader
        ]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    shutil.move(tmp, path)
