"""Surveys: CSAT after contacts and visits, relationship NPS; every low score is a planted poor experience."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import SimulationConfig
from .frame import DAY, HOUR, NULL, Sink, ids, pick
from .sales import Period
from .untidy import email_variant

SURVEYS = [
    ("SV_CSAT_CONTACT", "CSAT_CONTACT", 1, 5, "How satisfied are you with our support?"),
    ("SV_CSAT_VISIT", "CSAT_VISIT", 1, 5, "How satisfied are you with the technician's visit?"),
    ("SV_NPS", "NPS", 0, 10, "How likely are you to recommend us to a friend?"),
    ("SV_ONBOARDING", "ONBOARDING", 1, 5, "How was your first month with us?"),
]
COMMENTS_LOW = ["Terrible experience.", "Nobody helped me.", "Still not fixed!", None]
COMMENTS_OK = ["Fine.", "Quick and friendly.", None, None]


def emit_surveys(sink: Sink, period: Period) -> None:
    t = np.full(len(SURVEYS), period.t0 + 6 * HOUR)
    sink.emit(
        "survey__surveys",
        -1,
        NULL,
        t,
        survey_id=np.array([x[0] for x in SURVEYS], dtype=object),
        survey_type=np.array([x[1] for x in SURVEYS], dtype=object),
        scale_min=np.array([x[2] for x in SURVEYS]),
        scale_max=np.array([x[3] for x in SURVEYS]),
        question=np.array([x[4] for x in SURVEYS], dtype=object),
    )


def _survey(
    rng,
    s,
    sink: Sink,
    cfg: SimulationConfig,
    *,
    survey_id,
    rule,
    customers,
    id_suffix,
    triggered_at,
    finish,
    after_poor,
    relationship=False,
):
    """Invite some triggers, record the answers, plant a poor experience for each low score."""
    invite = rng.random(len(customers)) < (1.0 if relationship else rate_for(cfg, survey_id))
    customers, id_suffix, triggered_at, finish, after_poor = (
        customers[invite],
        id_suffix.filter(invite),
        triggered_at[invite],
        finish[invite],
        after_poor[invite],
    )
    n = len(customers)
    sent = triggered_at + rng.integers(1 * HOUR, 6 * HOUR, n)
    inv_id = pc.binary_join_element_wise("V", id_suffix, "")
    email, _ = email_variant(rng, s.email.take(pa.array(customers)), s.survey_email_rate)
    trig_type = (
        "RELATIONSHIP" if relationship else ("CONTACT" if survey_id == "SV_CSAT_CONTACT" else "APPOINTMENT")
    )
    inv_fin = np.maximum(finish, sent)
    sink.emit(
        "survey__invitations",
        customers,
        inv_fin,
        sent,
        invitation_id=inv_id,
        survey_id=survey_id,
        email=email,
        sent_at=sent,
        trigger_type=trig_type,
        trigger_id=None if relationship else id_suffix,
    )
    answered = rng.random(n) < cfg.response_rate
    low = rng.random(n) < np.where(after_poor, cfg.low_score_after_poor, cfg.low_score_baseline)
    # a low score is one the company's rule judges poor (at or below the seed's threshold), drawn over the
    # whole scale on either side of it, so answers at and just above the threshold occur on their own
    scale_min, scale_max = (0, 10) if relationship else (1, 5)
    if rule not in s.thresholds and n:
        raise ValueError(f"survey {survey_id} is sent but the company's seed has no rule {rule} to judge it")
    poor_at_or_below = int(s.thresholds.get(rule, scale_max))  # (nothing is drawn when nobody is invited)
    score = np.where(
        low,
        rng.integers(scale_min, poor_at_or_below + 1, n),
        rng.integers(poor_at_or_below + 1, scale_max + 1, n),
    )
    responded = sent + rng.integers(1 * HOUR, 2 * DAY, n)
    r = np.flatnonzero(answered)
    fin = np.maximum(inv_fin[r], responded[r])
    resp_id = pc.binary_join_element_wise("R", id_suffix.take(r), "")
    typed = rng.random(len(r)) < 0.7
    resp_email = pa.array(np.where(typed, np.asarray(email.take(r), dtype=object), None), pa.string())
    comment = np.where(
        low[r], pick(COMMENTS_LOW, rng.integers(0, 4, len(r))), pick(COMMENTS_OK, rng.integers(0, 4, len(r)))
    )
    sink.emit(
        "survey__responses",
        customers[r],
        fin,
        responded[r],
        response_id=resp_id,
        invitation_id=inv_id.take(r),
        email=resp_email,
        responded_at=responded[r],
        score=score[r],
        comment=comment,
    )
    lo = low[r]
    sink.plant(
        rule,
        customers=customers[r][lo],
        occurred_at=responded[r][lo],
        table="survey__responses",
        evidence=resp_id.filter(lo),
        finish=fin[lo],
        written=responded[r][lo],
    )
    # unanswered invitations are where out-of-range scores are injected later (never over a real answer)
    s.unanswered.append(
        (
            inv_id.filter(~answered),
            email.filter(~answered),
            sent[~answered],
            customers[~answered],
            inv_fin[~answered],
            10 if relationship else 5,
        )
    )


def rate_for(cfg: SimulationConfig, survey_id: str) -> float:
    return cfg.csat_contact_invite_rate if survey_id == "SV_CSAT_CONTACT" else cfg.csat_visit_invite_rate


def surveys(rng, s, period: Period, cfg: SimulationConfig, sink: Sink, visits: list, contacts) -> None:
    """CSAT after visits and contacts, then one relationship NPS for some customers."""
    s.unanswered = []
    vcust = np.concatenate([v.cust for v in visits])
    vid = pa.concat_arrays([a for v in visits for a in v.aid])
    _survey(
        rng,
        s,
        sink,
        cfg,
        survey_id="SV_CSAT_VISIT",
        rule="low_csat_visit",
        customers=vcust,
        id_suffix=vid,
        triggered_at=np.concatenate([v.at for v in visits]),
        finish=np.concatenate([v.finish for v in visits]),
        after_poor=np.concatenate([v.poor for v in visits]),
    )
    _survey(
        rng,
        s,
        sink,
        cfg,
        survey_id="SV_CSAT_CONTACT",
        rule="low_csat_contact",
        customers=contacts.cust,
        id_suffix=pa.concat_arrays(contacts.cid),
        triggered_at=contacts.at,
        finish=contacts.finish,
        after_poor=contacts.poor,
    )
    # NPS once, at a random moment after the first month; detractors follow recent poor experiences
    nps = np.flatnonzero(
        (rng.random(s.n) < cfg.nps_invite_rate) & (s.signup + 30 * DAY < period.te - 3 * DAY)
    )
    at = (
        s.signup[nps]
        + 30 * DAY
        + (rng.random(len(nps)) * (period.te - 3 * DAY - s.signup[nps] - 30 * DAY)).astype(np.int64)
    )
    pcust, pt, _, _ = sink.poor_times()
    recent = count_between(pcust, pt, nps, at - 90 * DAY, at) > 0
    _survey(
        rng,
        s,
        sink,
        cfg,
        survey_id="SV_NPS",
        rule="nps_detractor",
        customers=nps,
        id_suffix=ids("N", s.gid[nps], 9),
        triggered_at=at,
        finish=np.full(len(nps), NULL),
        after_poor=recent,
        relationship=True,
    )


def count_between(pcust, pt, cust, lo, hi) -> np.ndarray:
    """Per (cust, lo, hi): how many (pcust, pt) events of that customer fall in (lo, hi]."""
    base = np.int64(1) << 42
    key = np.sort(pcust * base + (pt - pt.min(initial=0) if len(pt) else pt))
    shift = pt.min(initial=0) if len(pt) else 0
    a = np.searchsorted(key, cust * base + (lo - shift), side="right")
    b = np.searchsorted(key, cust * base + (hi - shift), side="right")
    return b - a


def unmatchable(rng, s, period: Period, cfg: SimulationConfig, sink: Sink, c0: int) -> int:
    """Responses from e-mails that match no customer (survey tool noise, not in the answer key)."""
    n = int(np.ceil(cfg.unmatchable_response_rate * s.n * 0.3)) if s.n else 0
    sent = period.t0 + (rng.random(n) * (period.days - 1) * DAY).astype(np.int64)
    suffix = ids("U", c0 + np.arange(n), 9)
    inv_id = pc.binary_join_element_wise("V", suffix, "")
    email = ids("guest", c0 + np.arange(n), 7)
    email = pc.binary_join_element_wise(email, "@nowhere.example", "")
    sink.emit(
        "survey__invitations",
        -1,
        NULL,
        sent,
        invitation_id=inv_id,
        survey_id="SV_NPS",
        email=email,
        sent_at=sent,
        trigger_type="RELATIONSHIP",
        trigger_id=None,
    )
    responded = sent + rng.integers(HOUR, DAY, n)
    sink.emit(
        "survey__responses",
        -1,
        NULL,
        responded,
        response_id=pc.binary_join_element_wise("R", suffix, ""),
        invitation_id=inv_id,
        email=email,
        responded_at=responded,
        score=rng.integers(0, 11, n),
        comment=None,
    )
    return n
