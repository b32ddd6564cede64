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
    created_at = np.full(len(SURVEYS), period.t0 + 6 * HOUR)
    sink.emit(
        "survey__surveys",
        -1,
        NULL,
        created_at,
        survey_id=np.array([x[0] for x in SURVEYS], dtype=object),
        survey_type=np.array([x[1] for x in SURVEYS], dtype=object),
        scale_min=np.array([x[2] for x in SURVEYS]),
        scale_max=np.array([x[3] for x in SURVEYS]),
        question=np.array([x[4] for x in SURVEYS], dtype=object),
    )


def _survey(
    rng,
    chunk,
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
    count = len(customers)
    sent = triggered_at + rng.integers(1 * HOUR, 6 * HOUR, count)
    invitation_ids = pc.binary_join_element_wise("V", id_suffix, "")
    email, _ = email_variant(rng, chunk.email.take(pa.array(customers)), chunk.survey_email_rate)
    trig_type = (
        "RELATIONSHIP" if relationship else ("CONTACT" if survey_id == "SV_CSAT_CONTACT" else "APPOINTMENT")
    )
    invitation_finish = np.maximum(finish, sent)
    sink.emit(
        "survey__invitations",
        customers,
        invitation_finish,
        sent,
        invitation_id=invitation_ids,
        survey_id=survey_id,
        email=email,
        sent_at=sent,
        trigger_type=trig_type,
        trigger_id=None if relationship else id_suffix,
    )
    answered = rng.random(count) < cfg.response_rate
    low = rng.random(count) < np.where(after_poor, cfg.low_score_after_poor, cfg.low_score_baseline)
    # a low score is one the company's rule judges poor (at or below the seed's threshold), drawn over the
    # whole scale on either side of it, so answers at and just above the threshold occur on their own
    scale_min, scale_max = (0, 10) if relationship else (1, 5)
    if rule not in chunk.thresholds and count:
        raise ValueError(f"survey {survey_id} is sent but the company's seed has no rule {rule} to judge it")
    poor_at_or_below = int(chunk.thresholds.get(rule, scale_max))  # (nothing is drawn when nobody is invited)
    score = np.where(
        low,
        rng.integers(scale_min, poor_at_or_below + 1, count),
        rng.integers(poor_at_or_below + 1, scale_max + 1, count),
    )
    responded = sent + rng.integers(1 * HOUR, 2 * DAY, count)
    answered_rows = np.flatnonzero(answered)
    chain_finish = np.maximum(invitation_finish[answered_rows], responded[answered_rows])
    response_ids = pc.binary_join_element_wise("R", id_suffix.take(answered_rows), "")
    typed = rng.random(len(answered_rows)) < 0.7
    response_emails = pa.array(
        np.where(typed, np.asarray(email.take(answered_rows), dtype=object), None), pa.string()
    )
    comment = np.where(
        low[answered_rows],
        pick(COMMENTS_LOW, rng.integers(0, 4, len(answered_rows))),
        pick(COMMENTS_OK, rng.integers(0, 4, len(answered_rows))),
    )
    sink.emit(
        "survey__responses",
        customers[answered_rows],
        chain_finish,
        responded[answered_rows],
        response_id=response_ids,
        invitation_id=invitation_ids.take(answered_rows),
        email=response_emails,
        responded_at=responded[answered_rows],
        score=score[answered_rows],
        comment=comment,
    )
    low_answers = low[answered_rows]
    sink.plant(
        rule,
        customers=customers[answered_rows][low_answers],
        occurred_at=responded[answered_rows][low_answers],
        table="survey__responses",
        evidence=response_ids.filter(low_answers),
        finish=chain_finish[low_answers],
        written=responded[answered_rows][low_answers],
    )
    # unanswered invitations are where out-of-range scores are injected later (never over a real answer)
    chunk.unanswered.append(
        (
            invitation_ids.filter(~answered),
            email.filter(~answered),
            sent[~answered],
            customers[~answered],
            invitation_finish[~answered],
            10 if relationship else 5,
        )
    )


def rate_for(cfg: SimulationConfig, survey_id: str) -> float:
    return cfg.csat_contact_invite_rate if survey_id == "SV_CSAT_CONTACT" else cfg.csat_visit_invite_rate


def surveys(rng, chunk, period: Period, cfg: SimulationConfig, sink: Sink, visits: list, contacts) -> None:
    """CSAT after visits and contacts, then one relationship NPS for some customers."""
    chunk.unanswered = []
    visit_customers = np.concatenate([v.cust for v in visits])
    visit_ids = pa.concat_arrays([a for v in visits for a in v.aid])
    _survey(
        rng,
        chunk,
        sink,
        cfg,
        survey_id="SV_CSAT_VISIT",
        rule="low_csat_visit",
        customers=visit_customers,
        id_suffix=visit_ids,
        triggered_at=np.concatenate([v.at for v in visits]),
        finish=np.concatenate([v.finish for v in visits]),
        after_poor=np.concatenate([v.poor for v in visits]),
    )
    _survey(
        rng,
        chunk,
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
        (rng.random(chunk.n) < cfg.nps_invite_rate) & (chunk.signup + 30 * DAY < period.te - 3 * DAY)
    )
    invited_at = (
        chunk.signup[nps]
        + 30 * DAY
        + (rng.random(len(nps)) * (period.te - 3 * DAY - chunk.signup[nps] - 30 * DAY)).astype(np.int64)
    )
    poor_customers, poor_at, _, _ = sink.poor_times()
    recent = count_between(poor_customers, poor_at, nps, invited_at - 90 * DAY, invited_at) > 0
    _survey(
        rng,
        chunk,
        sink,
        cfg,
        survey_id="SV_NPS",
        rule="nps_detractor",
        customers=nps,
        id_suffix=ids("N", chunk.gid[nps], 9),
        triggered_at=invited_at,
        finish=np.full(len(nps), NULL),
        after_poor=recent,
        relationship=True,
    )


def count_between(event_customers, event_at, customers, after, until) -> np.ndarray:
    """Per (customers, after, until): how many (event_customers, event_at) events of that customer fall in
    (after, until]."""
    base = np.int64(1) << 42
    key = np.sort(
        event_customers * base + (event_at - event_at.min(initial=0) if len(event_at) else event_at)
    )
    shift = event_at.min(initial=0) if len(event_at) else 0
    first_after = np.searchsorted(key, customers * base + (after - shift), side="right")
    first_after_until = np.searchsorted(key, customers * base + (until - shift), side="right")
    return first_after_until - first_after


def unmatchable(rng, chunk, period: Period, cfg: SimulationConfig, sink: Sink, first_customer: int) -> int:
    """Responses from e-mails that match no customer (survey tool noise, not in the answer key)."""
    count = int(np.ceil(cfg.unmatchable_response_rate * chunk.n * 0.3)) if chunk.n else 0
    sent = period.t0 + (rng.random(count) * (period.days - 1) * DAY).astype(np.int64)
    suffix = ids("U", first_customer + np.arange(count), 9)
    inv_id = pc.binary_join_element_wise("V", suffix, "")
    email = ids("guest", first_customer + np.arange(count), 7)
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
    responded = sent + rng.integers(HOUR, DAY, count)
    sink.emit(
        "survey__responses",
        -1,
        NULL,
        responded,
        response_id=pc.binary_join_element_wise("R", suffix, ""),
        invitation_id=inv_id,
        email=email,
        responded_at=responded,
        score=rng.integers(0, 11, count),
        comment=None,
    )
    return count
