"""generate_company: simulate a company chunk by chunk and write its exports and answer key."""

from __future__ import annotations

import gc
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import billing, defection, sales, service, survey
from .config import SimulationConfig
from .frame import DAY, HOUR, NULL, Rows, Sink, ids
from .reference import DEFAULT_COMPANY, reference, rule_thresholds
from .untidy import Untidy, email_variant
from .writer import DayWriter, KeyWriter, utc_text

GENERATOR_VERSION = "1.0.0"


@dataclass
class GenerationSummary:
    """What a run wrote: rows per table, export days, untidiness injected, wall time."""

    rows_per_table: dict[str, int] = field(default_factory=dict)
    export_days: int = 0
    untidiness: dict[str, int] = field(default_factory=dict)  # kind -> rows
    wall_seconds: float = 0.0
    customers: int = 0
    poor_experiences: int = 0
    defections: int = 0

    def __str__(self) -> str:
        lines = [
            f"customers: {self.customers}  export days: {self.export_days}  wall: {self.wall_seconds:.1f}s",
            f"planted poor experiences: {self.poor_experiences}  defections: {self.defections}",
            "rows per table:",
        ]
        lines += [f"  {t:<24} {n:>12,}" for t, n in sorted(self.rows_per_table.items())]
        lines.append("untidiness (rows):")
        lines += [f"  {k:<24} {n:>12,}" for k, n in sorted(self.untidiness.items())]
        return "\n".join(lines)


def generate_company(
    out_dir: Path,
    answer_key_dir: Path,
    customers: int,
    days: int,
    seed: int,
    start_date: date = date(2024, 1, 1),
    config: SimulationConfig | None = None,
    progress: bool = True,
    chunk_size: int = 100_000,
    horizon_days: int = 90,
    company: str = DEFAULT_COMPANY,
    rule_aliases: dict[str, str] | None = None,
) -> GenerationSummary:
    """Simulate `customers` customers over `days` export days and write exports plus answer key.

    Same arguments -> byte-identical files. Memory is bounded by `chunk_size` customers. `horizon_days` is the
    window of the answer key's planted per-level defection probabilities (the dbt var defection_horizon_days).
    `company` names the profile whose seed thresholds the boundary events and survey scores follow;
    `rule_aliases` maps a rule of the simulation to the company's rule judging the same thing when its seed
    names it otherwise.
    """
    if customers < 1 or days < 1 or chunk_size < 1:
        raise ValueError("customers, days and chunk_size must be positive")
    began = time.perf_counter()
    cfg = config or SimulationConfig()
    reference_data = reference()
    plans = sales.Plans(reference_data)
    period = sales.Period(start_date, days)
    camp = sales.campaigns(period, cfg, plans, seed)
    writer = DayWriter(Path(out_dir), period, reference_data)
    key = KeyWriter(Path(answer_key_dir))
    rules = {r["rule_id"]: r for r in reference_data.rules}
    thresholds = dict(rule_thresholds(company))
    for simulated, own in (rule_aliases or {}).items():
        thresholds[simulated] = thresholds[own]
    company_codes = [
        code_row["failure_code"]
        for code_row in reference_data.failure_codes
        if code_row["caused_by"] == "company"
    ]
    untidy_counts: dict[tuple[str, str], int] = {}
    totals = dict(poor=0, defections=0)
    chunks = max(1, -(-customers // chunk_size))
    for chunk_index in range(chunks):
        first_customer = chunk_index * chunk_size
        count = min(chunk_size, customers - first_customer)
        rng = np.random.default_rng(np.random.SeedSequence([seed, chunk_index + 1]))
        sink = Sink()
        if chunk_index == 0:
            sales.emit_campaigns(sink, period, camp, plans)
            survey.emit_surveys(sink, period)
        chunk = sales.customers(rng, first_customer, count, period, cfg, camp, plans)
        chunk.rule_silo = {r: v["silo"] for r, v in rules.items()}
        chunk.thresholds = thresholds
        rate = cfg.email_format_rate if cfg.untidy else 0.0
        chunk.crm_email, _ = email_variant(rng, chunk.email, rate)
        chunk.billing_email = pc.utf8_upper(chunk.email) if cfg.untidy else chunk.email
        chunk.survey_email_rate = rate
        unhonoured = np.flatnonzero(chunk.offer_not_honoured)
        sink.plant(
            "offer_not_honoured",
            customers=unhonoured,
            occurred_at=chunk.signup[unhonoured],
            table="crm__subscriptions",
            evidence=ids("S", chunk.sub_num[unhonoured, 0], 9),
            finish=np.full(len(unhonoured), NULL),
            written=chunk.signup[unhonoured],
        )
        installs = service.installs(rng, chunk, period, cfg, sink)
        care = service.care(rng, chunk, period, cfg, sink)
        billing_plan = billing.plan(rng, chunk, period, cfg, company_codes, sink)
        survey.surveys(rng, chunk, period, cfg, sink, [installs, care.visits], care.contacts)
        complaints = service.complaints(rng, chunk, period, cfg, sink)
        defection.hazard(
            rng, chunk, period=period, cfg=cfg, sink=sink, complaints=complaints, billing_plan=billing_plan
        )
        chunk_key: dict = {}
        defection.subscriptions(rng, chunk, period, cfg, sink, plans, chunk_key)
        billing.write(
            rng,
            chunk,
            billing_plan=billing_plan,
            fees=care.fees,
            period=period,
            cfg=cfg,
            sink=sink,
            plans=plans,
        )
        if cfg.untidy:
            _out_of_range(rng, chunk, cfg, sink)
        survey.unmatchable(rng, chunk, period, cfg, sink, first_customer)

        cutoff = np.r_[np.where(chunk.defected_at == NULL, period.te, chunk.defected_at), period.te]
        tidy = Untidy(rng, cfg, period.days - 1)
        for table in reference_data.contract["tables"]:
            rows = Rows.concat(sink.tables.get(table, []))
            if not len(rows):
                continue
            keep = (rows.finish < cutoff[rows.cust]) & (rows.t < period.te) & (rows.t >= period.t0)
            rows = rows.subset(np.flatnonzero(keep))
            rows.day = (rows.t - period.t0) // DAY
            types = dict(reference_data.columns(table))
            if cfg.untidy:
                rows, bad = tidy.apply(table, rows, types)
            else:
                rows.off, bad = np.zeros(len(rows), dtype=np.int64), []
            writer.write(table, rows, bad)
        if cfg.untidy:
            for email_table, col in [
                ("crm__customers", chunk.crm_email),
                ("billing__accounts", chunk.billing_email),
            ]:
                tidy.count(
                    "email_format", email_table, int(pc.sum(pc.not_equal(col, chunk.email)).as_py() or 0)
                )
        for kind_and_table, rows_touched in tidy.counts.items():
            untidy_counts[kind_and_table] = untidy_counts.get(kind_and_table, 0) + rows_touched
        totals["poor"] += _write_key(
            key,
            chunk,
            sink,
            cutoff=cutoff,
            period=period,
            rules=rules,
            complaints=complaints,
            chunk_key=chunk_key,
        )
        _write_level_probabilities(
            key, chunk, defection.level_probabilities(chunk, sink, period, horizon_days)
        )
        totals["defections"] += sum(len(r["cust"]) for r in chunk_key["defections"])
        del (
            chunk,
            sink,
            complaints,
            billing_plan,
            installs,
            care,
        )  # free the chunk before the next one is built
        gc.collect()
        if progress:
            done = sum(writer.rows_written.values())
            print(
                f"chunk {chunk_index + 1}/{chunks}: customers {first_customer + count:,}, "
                f"rows written {done:,}, "
                f"elapsed {time.perf_counter() - began:.1f}s, rss {_rss_gb():.2f} GB",
                file=sys.stderr,
                flush=True,
            )

    for table, changed_rows in writer.schema_change.items():
        untidy_counts[("schema_change", table)] = changed_rows
    key.write(
        "untidiness",
        {
            "kind": [k for k, _ in untidy_counts],
            "table_name": [t for _, t in untidy_counts],
            "rows": [str(v) for v in untidy_counts.values()],
        },
    )
    by_kind: dict[str, int] = {}
    for (kind, _), rows_touched in untidy_counts.items():
        by_kind[kind] = by_kind.get(kind, 0) + rows_touched
    summary = GenerationSummary(
        rows_per_table=dict(writer.rows_written),
        export_days=days,
        untidiness=by_kind,
        wall_seconds=time.perf_counter() - began,
        customers=customers,
        poor_experiences=totals["poor"],
        defections=totals["defections"],
    )
    manifest = dict(
        generator_version=GENERATOR_VERSION,
        seed=seed,
        customers=customers,
        days=days,
        start_date=start_date.isoformat(),
        end_date=(start_date + timedelta(days=days - 1)).isoformat(),
        chunk_size=chunk_size,
        midpoint_date=(start_date + timedelta(days=days // 2)).isoformat(),
        horizon_days=horizon_days,
        config=asdict(cfg),
        rows_per_table=summary.rows_per_table,
    )
    (Path(answer_key_dir) / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return summary


def _rss_gb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e9


def _out_of_range(rng, chunk, cfg: SimulationConfig, sink: Sink) -> None:
    """Extra answers with impossible scores, on invitations nobody answered (the truth stays unanswered)."""
    invitations = pa.concat_arrays([u[0] for u in chunk.unanswered])
    if len(invitations) == 0:
        return
    email = pa.concat_arrays([u[1] for u in chunk.unanswered])
    sent = np.concatenate([u[2] for u in chunk.unanswered])
    cust = np.concatenate([u[3] for u in chunk.unanswered])
    chain_finish = np.concatenate([u[4] for u in chunk.unanswered])
    scale_top = np.concatenate([np.full(len(u[0]), u[5]) for u in chunk.unanswered])
    picked = rng.choice(
        len(invitations),
        min(len(invitations), int(np.ceil(cfg.out_of_range_score_rate * len(invitations)))),
        replace=False,
    )
    picked = np.sort(picked)
    at = sent[picked] + rng.integers(HOUR, DAY, len(picked))
    score = np.where(
        rng.random(len(picked)) < 0.5,
        scale_top[picked] + rng.integers(1, 4, len(picked)),
        -1 - rng.integers(0, 2, len(picked)),
    )
    sink.emit(
        "survey__responses",
        cust[picked],
        np.maximum(chain_finish[picked], at),
        at,
        response_id=pc.binary_join_element_wise("RX", invitations.take(pa.array(picked)), ""),
        invitation_id=invitations.take(pa.array(picked)),
        email=email.take(pa.array(picked)),
        responded_at=at,
        score=score,
        comment=None,
    )


def _write_level_probabilities(key: KeyWriter, chunk, levels: dict) -> None:
    """poor_experience_levels.csv: per customer and level, the planted probability of defecting after it."""
    order = np.lexsort((levels["level"], levels["cust"]))
    probability = levels["probability"][order]
    key.write(
        "poor_experience_levels",
        {
            "customer_id": chunk.cid.take(pa.array(levels["cust"][order])),
            "poor_experience_level": levels["level"][order].astype(str).astype(object),
            "reached_at": utc_text(levels["reached"][order]),
            "window_ends_at": utc_text(levels["window_end"][order]),
            "planted_probability": np.array(
                [None if np.isnan(x) else f"{x:.9f}" for x in probability], dtype=object
            ),
        },
    )


def _write_boundary_events(key: KeyWriter, chunk, sink: Sink, cutoff, period) -> None:
    """Every boundary event whose evidence row is exported, with the outcome the seed's rule gives it."""
    names = ("rule_id", "customer_id", "evidence_table", "evidence_id", "value", "threshold", "unit", "poor")
    columns: dict[str, list] = {name: [] for name in names}
    for boundary in sink.boundary:
        keep = np.flatnonzero(
            (boundary["finish"] < cutoff[boundary["cust"]]) & (boundary["written"] < period.te)
        )
        columns["rule_id"] += [boundary["rule"]] * len(keep)
        columns["customer_id"] += chunk.cid.take(pa.array(boundary["cust"][keep])).to_pylist()
        columns["evidence_table"] += [boundary["table"]] * len(keep)
        columns["evidence_id"] += boundary["evidence"].take(pa.array(keep)).to_pylist()
        columns["value"] += [str(value) for value in boundary["value"][keep]]
        columns["threshold"] += [f"{threshold:.15g}" for threshold in boundary["threshold"][keep]]
        columns["unit"] += [boundary["unit"]] * len(keep)
        columns["poor"] += ["true" if poor else "false" for poor in boundary["poor"][keep]]
    key.write("boundary_events", {column: np.array(value, dtype=object) for column, value in columns.items()})


def _write_key(key: KeyWriter, chunk, sink: Sink, *, cutoff, period, rules, complaints, chunk_key) -> int:
    """The chunk's rows of every answer-key file; returns how many planted poor experiences were kept."""
    key.write(
        "customers",
        {
            "customer_id": chunk.cid,
            "signed_up_at": utc_text(chunk.signup),
            "campaign_id": chunk.campaign_id,
            "canonical_email": chunk.email,
        },
    )
    parts = []
    for planted in sink.poor:
        keep = (planted["finish"] < cutoff[planted["cust"]]) & (planted["written"] < period.te)
        idx = np.flatnonzero(keep)
        if len(idx):
            parts.append((planted, idx))
    cust = (
        np.concatenate([planted["cust"][kept] for planted, kept in parts])
        if parts
        else np.zeros(0, dtype=np.int64)
    )
    occurred_at = (
        np.concatenate([planted["t"][kept] for planted, kept in parts])
        if parts
        else np.zeros(0, dtype=np.int64)
    )
    silo = (
        np.concatenate(
            [np.full(len(kept), rules[planted["rule"]]["silo"], dtype=object) for planted, kept in parts]
        )
        if parts
        else np.zeros(0, dtype=object)
    )
    kind = (
        np.concatenate(
            [np.full(len(kept), rules[planted["rule"]]["kind"], dtype=object) for planted, kept in parts]
        )
        if parts
        else np.zeros(0, dtype=object)
    )
    table = (
        np.concatenate([np.full(len(kept), planted["table"], dtype=object) for planted, kept in parts])
        if parts
        else np.zeros(0, dtype=object)
    )
    evidence_ids = (
        pa.concat_arrays([planted["evidence"].take(pa.array(kept)) for planted, kept in parts])
        if parts
        else pa.array([], pa.string())
    )
    order = np.lexsort((occurred_at, cust))
    key.write(
        "poor_experiences",
        {
            "customer_id": chunk.cid.take(pa.array(cust[order])),
            "silo": silo[order],
            "kind": kind[order],
            "occurred_at": utc_text(occurred_at[order]),
            "evidence_table": table[order],
            "evidence_id": evidence_ids.take(pa.array(order)),
        },
    )
    _write_boundary_events(key, chunk, sink, cutoff, period)
    kept_complaints = np.flatnonzero(complaints.finish < cutoff[complaints.cust])
    key.write(
        "complaints",
        {
            "customer_id": chunk.cid.take(pa.array(complaints.cust[kept_complaints])),
            "case_id": complaints.case_id.take(pa.array(kept_complaints)),
            "complained_at": utc_text(complaints.opened[kept_complaints]),
            "handled_well": np.where(complaints.handled_written[kept_complaints], "true", "false").astype(
                object
            ),
        },
    )
    defections = chunk_key["defections"]
    defection_customers = np.concatenate([batch["cust"] for batch in defections])
    order = np.lexsort((np.concatenate([batch["episode"] for batch in defections]), defection_customers))
    key.write(
        "defections",
        {
            "customer_id": chunk.cid.take(pa.array(defection_customers[order])),
            "episode_number": np.concatenate([batch["episode"] for batch in defections])[order]
            .astype(str)
            .astype(object),
            "episode_started_at": utc_text(np.concatenate([batch["started"] for batch in defections])[order]),
            "defected_at": utc_text(np.concatenate([batch["defected"] for batch in defections])[order]),
            "defection_type": np.concatenate([batch["type"] for batch in defections]).astype(object)[order],
            "cancel_reason_code": np.concatenate(
                [np.asarray(batch["code"], dtype=object) for batch in defections]
            )[order],
        },
    )
    downgrades = chunk_key["downgrades"]
    key.write(
        "downgrades",
        {
            "customer_id": chunk.cid.take(pa.array(downgrades["cust"])),
            "subscription_id": downgrades["sub"],
            "downgraded_at": utc_text(downgrades["at"]),
            "from_plan_code": downgrades["from_plan"],
            "to_plan_code": downgrades["to_plan"],
        },
    )
    return len(cust)
