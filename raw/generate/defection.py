"""Who leaves and when: a weekly hazard driven by recent poor experiences, complaints and stickiness.

Also writes what the decision leaves in the CRM: customer versions, subscription versions (start, downgrade,
partial cancel, cancellation, win-back) and the answer-key rows for defections and downgrades.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .config import SimulationConfig
from .frame import DAY, HOUR, NULL, WEEK, Sink, ids, pick
from .sales import CONTRACTS, PRODUCTS, REGIONS, Period, Plans

REASONS = ["PRICE", "SERVICE", "INSTALL", "CARE", "COMPETITOR", "MOVING", "NON_PAYMENT", "OTHER"]
SILO_REASON = {"installation": 2, "care": 3, "billing": 0, "marketing_sales": 4, "network_service": 1}
# free text an agent types; each contains a keyword of its own reason only (seeds/cancel_reasons.csv)
TEXTS = {
    0: ["too expensive", "bill keeps going up", "cost too high for what we get"],
    1: ["internet too slow", "constant outage at home", "no signal most evenings"],
    2: ["technician never came", "bad install experience", "engineer broke things"],
    3: ["support never helped", "agent was rude", "nobody called back"],
    4: ["found a better deal", "competitor is cheaper", "wants to switch provider"],
    5: ["moving abroad", "relocating to another city", "moving in with family"],
}
RECENT_WEEKS = 13


def _weekly(cust, times, count, weeks, period) -> np.ndarray:
    """Cumulative per-customer event counts by week: out[:, k] = events in weeks < k."""
    week = (times - period.t0) // WEEK
    inside = (week >= 0) & (week < weeks)
    counts = np.bincount(cust[inside] * weeks + week[inside], minlength=count * weeks).reshape(count, weeks)
    out = np.zeros((count, weeks + 1), dtype=np.int32)
    np.cumsum(counts, axis=1, out=out[:, 1:])
    return out


def hazard(
    rng, chunk, *, period: Period, cfg: SimulationConfig, sink: Sink, complaints, billing_plan
) -> None:
    """Decide s.defected_at (NULL = stays) and s.invol for the first episode."""
    count, weeks = chunk.n, -(-period.days // 7)
    poor_customers, poor_at, _, _ = sink.poor_times()
    poor = _weekly(poor_customers, poor_at, count, weeks, period)
    handled = complaints.well
    well = _weekly(complaints.cust[handled], complaints.closed[handled], count, weeks, period)
    bad = _weekly(complaints.cust[~handled], complaints.opened[~handled] + 7 * DAY, count, weeks, period)
    start_week = (chunk.signup + 21 * DAY - period.t0) // WEEK + 1
    alive = np.ones(count, dtype=bool)
    week = np.full(count, -1)
    bundle = chunk.nprod >= 2
    # the hazard each customer faced each week, kept for the answer key (level_probabilities)
    chunk.weekly_hazard = np.zeros((count, weeks), dtype=np.float64)
    for week_number in range(weeks):
        window_first_week = max(week_number - RECENT_WEEKS, 0)
        recent = poor[:, week_number] - poor[:, window_first_week]
        week_hazard = np.where(
            recent >= 2, cfg.hazard_two_plus_poor, np.where(recent == 1, cfg.hazard_one_poor, 0.0)
        )
        week_hazard = week_hazard + cfg.base_weekly_hazard
        week_start = period.t0 + week_number * WEEK
        sticky = (
            ((chunk.contract_end_day * DAY > week_start) & (chunk.contract_end_day != NULL)).astype(int)
            + bundle
            + (week_start - chunk.signup >= 730 * DAY)
        )
        week_hazard = week_hazard * cfg.stickiness_damping**sticky
        week_hazard = np.where(
            well[:, week_number] - well[:, window_first_week] > 0,
            week_hazard * cfg.handled_complaint_damping,
            week_hazard,
        )
        week_hazard = np.where(
            bad[:, week_number] - bad[:, window_first_week] > 0,
            week_hazard * cfg.unhandled_complaint_boost,
            week_hazard,
        )
        chunk.weekly_hazard[:, week_number] = np.where(week_number >= start_week, week_hazard, 0.0)
        defecting = alive & (week_number >= start_week) & (rng.random(count) < week_hazard)
        week[defecting] = week_number
        alive &= ~defecting
    when = (period.day0 + week * 7 + rng.integers(0, 7, count)) * DAY + rng.integers(
        9 * HOUR, 19 * HOUR, count
    )
    vol = np.where((week >= 0) & (when < period.te), when, NULL)
    invol = billing_plan.invol_at
    use_invol = (invol != NULL) & ((vol == NULL) | (invol < vol))
    chunk.defected_at = np.where(use_invol, invol, vol)
    chunk.invol = use_invol
    chunk.invol_planned_at = invol
    # stated reason: the silo of the latest recent poor experience, else a generic one
    chunk.reason = np.where(use_invol, 6, rng.choice([0, 4, 5, 7], count, p=[0.35, 0.3, 0.2, 0.15]))
    defectors = np.flatnonzero(chunk.defected_at != NULL)
    order = np.lexsort((poor_at, poor_customers))
    sorted_poor_customers, sorted_poor_at = poor_customers[order], poor_at[order]
    silo_of_group = np.array(
        [SILO_REASON.get(chunk.rule_silo[planted["rule"]], -1) for planted in sink.poor] or [-1]
    )
    group = (
        np.repeat(np.arange(len(sink.poor)), [len(planted["cust"]) for planted in sink.poor])[order]
        if sink.poor
        else np.zeros(0, dtype=int)
    )
    base = np.int64(1) << 42
    key = sorted_poor_customers * base + (sorted_poor_at - period.t0)
    latest_poor = (
        np.searchsorted(key, defectors * base + (chunk.defected_at[defectors] - period.t0), side="left") - 1
    )
    recent_poor = latest_poor >= 0
    recent_poor[recent_poor] &= (
        sorted_poor_customers[latest_poor[recent_poor]] == defectors[recent_poor]
    ) & (sorted_poor_at[latest_poor[recent_poor]] > chunk.defected_at[defectors[recent_poor]] - 90 * DAY)
    stated = np.where(recent_poor, silo_of_group[group[np.maximum(latest_poor, 0)]] if len(group) else -1, -1)
    voluntary_defector = ~use_invol[defectors]
    chunk.reason[defectors] = np.where(
        voluntary_defector & (stated >= 0) & (rng.random(len(defectors)) < 0.7),
        stated,
        chunk.reason[defectors],
    )


def _voluntary_cdf(survive: np.ndarray, hazard: np.ndarray, day0: int, at: np.ndarray) -> np.ndarray:
    """P(voluntary defection before `at`) per customer, as hazard() draws it: week w with probability
    survive[:, w] * hazard[:, w] (survive[:, w] = no defection in the weeks before w), then a day of that week
    (uniform 0-6) and a second between 09:00 and 19:00 (uniform). Every week before the one holding `at`
    counts whole, so only that week's share needs the within-week distribution."""
    count, weeks = hazard.shape
    week = np.clip((at // DAY - day0) // 7, -1, weeks)
    rows = np.arange(count)
    inside = (week >= 0) & (week < weeks)
    w = np.clip(week, 0, weeks - 1)
    into = at - (day0 + 7 * w) * DAY  # seconds of `at` into its week
    within = np.zeros(count)
    for weekday in range(7):
        within += np.clip((into - weekday * DAY - 9 * HOUR) / (10 * HOUR), 0.0, 1.0) / 7
    before = 1 - survive[rows, np.clip(week, 0, weeks)]
    this_week = np.where(inside, survive[rows, w] * hazard[rows, w] * within, 0.0)
    return np.where(week < 0, 0.0, before + this_week)


def level_probabilities(chunk, sink: Sink, period: Period, horizon_days: int) -> dict:
    """The planted probability of defecting within the horizon after exactly k poor experiences.

    For each customer and level 0, 1, 2, 3+ reached in the first episode (level 0 at sign-up, level k at the
    k-th planted poor experience exported), the exact probability, under the weekly hazard hazard() drew from
    and the planned involuntary cancellation, of defecting within `horizon_days` of reaching the level and
    before the next one, given the customer was still a customer when the level's evidence was complete.
    A poor experience is exported only if its evidence is complete before the defection, so the next level
    cuts the window at the later of its instant and its evidence's completion. Empty when the window does not
    lie inside the simulated period (its hazard is not planted). From the simulation's own state only.
    """
    customer_count, horizon = chunk.n, horizon_days * DAY
    parts = [planted for planted in sink.poor]
    cust = np.concatenate([planted["cust"] for planted in parts]) if parts else np.zeros(0, dtype=np.int64)
    poor_at = np.concatenate([planted["t"] for planted in parts]) if parts else np.zeros(0, dtype=np.int64)
    evidence_done = (
        np.concatenate([planted["finish"] for planted in parts]) if parts else np.zeros(0, dtype=np.int64)
    )
    written = (
        np.concatenate([planted["written"] for planted in parts]) if parts else np.zeros(0, dtype=np.int64)
    )
    keep = (written < period.te) & (poor_at < period.te) & (poor_at >= chunk.signup[cust])
    cust, poor_at, evidence_done = cust[keep], poor_at[keep], np.maximum(evidence_done[keep], poor_at[keep])
    order = np.lexsort((poor_at, cust))
    cust, poor_at, evidence_done = cust[order], poor_at[order], evidence_done[order]
    # earliest evidence completion from each item on, within its customer (a suffix minimum per customer)
    customer_stride = np.int64(1) << 41
    shifted = (evidence_done - period.t0)[::-1] + cust[::-1] * customer_stride
    fin_from = (np.minimum.accumulate(shifted) - cust[::-1] * customer_stride)[::-1] + period.t0
    first = np.searchsorted(cust, np.arange(customer_count))
    count = np.searchsorted(cust, np.arange(customer_count), side="right") - first
    last = max(len(poor_at) - 1, 0)
    survive = np.cumprod(np.hstack([np.ones((customer_count, 1)), 1 - chunk.weekly_hazard]), axis=1)
    never = np.iinfo(np.int64).max
    ended = np.where(chunk.defected_at == NULL, never, chunk.defected_at)
    invol = np.where(chunk.invol_planned_at == NULL, never, chunk.invol_planned_at)
    out = {"cust": [], "level": [], "reached": [], "window_end": [], "probability": []}
    for level in range(4):
        item = np.minimum(first + level - 1, last)
        has = np.ones(customer_count, dtype=bool) if level == 0 else count >= level
        reached = chunk.signup if level == 0 else np.where(has, poor_at[item] if len(poor_at) else 0, 0)
        seen = chunk.signup if level == 0 else np.where(has, evidence_done[item] if len(poor_at) else 0, 0)
        window_end = reached + horizon
        if level < 3:
            cut = np.where(
                count >= level + 1,
                fin_from[np.minimum(first + level, last)] if len(poor_at) else never,
                never,
            )
            window_end = np.minimum(window_end, cut)
        exported = np.flatnonzero(
            has & (ended > seen)
        )  # exported: still a customer when the evidence was complete
        window_start, window_stop = seen[exported], np.maximum(window_end[exported], seen[exported])
        cdf_at_start = _voluntary_cdf(
            survive[exported], chunk.weekly_hazard[exported], period.day0, window_start
        )
        cdf_at_stop = _voluntary_cdf(
            survive[exported], chunk.weekly_hazard[exported], period.day0, window_stop
        )
        voluntary = (cdf_at_stop - cdf_at_start) / np.maximum(1 - cdf_at_start, 1e-12)
        planned = (invol[exported] > window_start) & (invol[exported] <= window_stop)
        inside = reached[exported] + horizon <= period.te
        out["cust"].append(exported)
        out["level"].append(np.full(len(exported), level))
        out["reached"].append(reached[exported])
        out["window_end"].append(window_end[exported])
        out["probability"].append(np.where(inside, np.where(planned, 1.0, voluntary), np.nan))
    return {name: np.concatenate(values) for name, values in out.items()}


@dataclass(frozen=True)
class SubscriptionChanges:
    """What happens to a chunk's subscriptions after sign-up, one element (or row) per customer."""

    new_plan: np.ndarray  # plan per (customer, slot) after a downgrade
    downgraded: np.ndarray
    downgraded_at: np.ndarray
    partial_cancelled: np.ndarray  # one product of a bundle cancelled, the customer stays
    partial_slot: np.ndarray
    partial_cancelled_at: np.ndarray
    won_back: np.ndarray  # a new broadband subscription after a voluntary defection
    won_back_at: np.ndarray
    second_defected_at: np.ndarray  # NULL unless the won-back customer defects again


def subscriptions(
    rng, chunk, period: Period, cfg: SimulationConfig, sink: Sink, plans: Plans, key: dict
) -> None:
    """Subscription versions and customer versions; sets s.start/end/price_after/change_at for billing."""
    count = chunk.n
    episode_end = np.where(chunk.defected_at == NULL, period.te + DAY, chunk.defected_at)
    chunk.start = np.repeat(chunk.signup[:, None], 4, axis=1)
    chunk.end = np.repeat(episode_end[:, None], 4, axis=1)
    chunk.price_after = chunk.price.copy()
    chunk.change_at = np.full((count, 4), np.iinfo(np.int64).max)
    new_plan = chunk.plan.copy()

    # downgrade of the broadband plan
    lower = plans.lower_tier(chunk.plan[:, 0])
    later = chunk.signup + 30 * DAY
    downgraded_at = later + (rng.random(count) * np.maximum(period.te - later, 0)).astype(np.int64)
    downgraded = (
        (lower != chunk.plan[:, 0])
        & (rng.random(count) < cfg.downgrade_rate)
        & (downgraded_at < np.minimum(episode_end, period.te))
    )
    low_price = np.minimum(plans.price[lower], chunk.price[:, 0] - 500)
    low_price = np.where(
        (lower == chunk.promised_plan), np.minimum(low_price, chunk.promised_price), low_price
    )
    chunk.change_at[downgraded, 0] = downgraded_at[downgraded]
    chunk.price_after[downgraded, 0] = low_price[downgraded]
    new_plan[downgraded, 0] = lower[downgraded]

    # one product of a bundle cancelled, the customer stays
    pslot = np.where(
        chunk.has[:, 1] & chunk.has[:, 2], rng.integers(1, 3, count), np.where(chunk.has[:, 1], 1, 2)
    )
    partial_cancelled_at = later + (rng.random(count) * np.maximum(period.te - later, 0)).astype(np.int64)
    partial_cancel = (
        (chunk.nprod >= 2)
        & (rng.random(count) < cfg.partial_cancel_rate)
        & (partial_cancelled_at < np.minimum(episode_end, period.te))
    )
    chunk.end[partial_cancel, pslot[partial_cancel]] = partial_cancelled_at[partial_cancel]

    # win-back: a new broadband subscription months after a voluntary defection, a second episode
    defected = chunk.defected_at != NULL
    won_back_at = episode_end + rng.integers(30, 181, count) * DAY
    won_back = (
        defected & ~chunk.invol & (rng.random(count) < cfg.winback_rate) & (won_back_at < period.te - DAY)
    )
    chunk.has[:, 3] = won_back
    chunk.start[:, 3] = np.where(won_back, won_back_at, period.te + DAY)
    weeks_to_second = rng.geometric(cfg.winback_weekly_hazard, count)
    second_defected_at = (won_back_at // DAY + weeks_to_second * 7) * DAY + rng.integers(
        9 * HOUR, 19 * HOUR, count
    )
    second_defected_at = np.where(won_back & (second_defected_at < period.te), second_defected_at, NULL)
    chunk.end[:, 3] = np.where(second_defected_at != NULL, second_defected_at, period.te + DAY)
    wplan = rng.choice(plans.by_product[0], count)
    chunk.plan[:, 3] = wplan
    new_plan[:, 3] = wplan
    wprice = plans.price[wplan]
    chunk.price[:, 3] = np.where(
        wplan == chunk.promised_plan, np.minimum(wprice, chunk.promised_price), wprice
    )
    chunk.price_after[:, 3] = chunk.price[:, 3]

    changes = SubscriptionChanges(
        new_plan=new_plan,
        downgraded=downgraded,
        downgraded_at=downgraded_at,
        partial_cancelled=partial_cancel,
        partial_slot=pslot,
        partial_cancelled_at=partial_cancelled_at,
        won_back=won_back,
        won_back_at=won_back_at,
        second_defected_at=second_defected_at,
    )
    _emit_subscription_rows(rng, chunk, period, sink, plans, changes)
    _emit_customer_rows(rng, chunk, period, cfg, sink)
    _key_rows(chunk, plans, changes, key)


def _sub_rows(
    sink: Sink,
    chunk,
    *,
    customers,
    slot,
    plan_index,
    monthly_price,
    status,
    started_at,
    cancelled_at,
    cancel_type,
    reason_code,
    reason_text,
    updated_at,
    plans: Plans,
    in_bundle=True,
):
    subscription_numbers = chunk.sub_num[customers, slot]
    contract = np.where(slot == 3, 0, chunk.contract[customers])
    sink.emit(
        "crm__subscriptions",
        customers,
        NULL,
        updated_at,
        subscription_id=ids("S", subscription_numbers, 9),
        customer_id=chunk.cid.take(customers),
        bundle_id=pa.array(
            np.where(
                (chunk.nprod[customers] >= 2) & (slot < 3) & in_bundle,
                np.asarray(ids("B", chunk.gid[customers], 8), dtype=object),
                None,
            ),
            pa.string(),
        ),
        product=pick(PRODUCTS, plans.product[plan_index]),
        plan_code=plans.code[plan_index],
        contract_type=pick(CONTRACTS, contract),
        contract_ends_on=np.where(contract > 0, chunk.contract_end_day[customers], NULL),
        monthly_price_minor=monthly_price,
        currency="EUR",
        promo_code=np.where(slot == 0, chunk.promo_code[customers], None),
        status=status,
        started_at=started_at,
        cancelled_at=cancelled_at,
        cancel_type=cancel_type,
        cancel_reason_code=reason_code,
        cancel_reason_text=reason_text,
        updated_at=updated_at,
    )


def _active_sub_rows(
    sink: Sink, chunk, *, customers, slot, plan_index, monthly_price, started_at, updated_at, plans
):
    """Version rows of subscriptions active at `updated_at` (never cancelled so far)."""
    _sub_rows(
        sink,
        chunk,
        customers=customers,
        slot=slot,
        plan_index=plan_index,
        monthly_price=monthly_price,
        status="ACTIVE",
        started_at=started_at,
        cancelled_at=np.full(len(customers), NULL),
        cancel_type=None,
        reason_code=None,
        reason_text=None,
        updated_at=updated_at,
        plans=plans,
    )


def _reason_capture(rng, reason):
    """Coded only, free text only, or both; codes without keywords (OTHER, NON_PAYMENT) are always coded."""
    count = len(reason)
    mode = rng.choice(3, count, p=[0.4, 0.3, 0.3])  # 0 code, 1 text, 2 both
    has_text = np.isin(reason, list(TEXTS))
    mode = np.where(has_text, mode, 0)
    text = np.array(
        [
            TEXTS[reason_index][variant % 3] if reason_index in TEXTS else None
            for reason_index, variant in zip(reason, rng.integers(0, 3, count), strict=True)
        ],
        dtype=object,
    )
    code = np.where(mode != 1, pick(REASONS, reason), None)
    return code, np.where(mode != 0, text, None)


def _emit_subscription_rows(
    rng, chunk, period: Period, sink: Sink, plans: Plans, changes: SubscriptionChanges
) -> None:
    count = chunk.n
    customers, slots = np.nonzero(chunk.has[:, :3])
    _active_sub_rows(
        sink,
        chunk,
        customers=customers,
        slot=slots,
        plan_index=chunk.plan[customers, slots],
        monthly_price=chunk.price[customers, slots],
        started_at=chunk.signup[customers],
        updated_at=chunk.signup[customers],
        plans=plans,
    )
    customers = np.flatnonzero(changes.downgraded)
    _active_sub_rows(
        sink,
        chunk,
        customers=customers,
        slot=np.zeros(len(customers), dtype=int),
        plan_index=changes.new_plan[customers, 0],
        monthly_price=chunk.price_after[customers, 0],
        started_at=chunk.signup[customers],
        updated_at=changes.downgraded_at[customers],
        plans=plans,
    )
    customers = np.flatnonzero(changes.partial_cancelled)
    slots = changes.partial_slot[customers]
    code = pick(REASONS, rng.choice([0, 4, 7], len(customers)))
    _sub_rows(
        sink,
        chunk,
        customers=customers,
        slot=slots,
        plan_index=chunk.plan[customers, slots],
        monthly_price=chunk.price[customers, slots],
        status="CANCELLED",
        started_at=chunk.signup[customers],
        cancelled_at=changes.partial_cancelled_at[customers],
        cancel_type="VOL",
        reason_code=code,
        reason_text=None,
        updated_at=changes.partial_cancelled_at[customers],
        plans=plans,
    )
    # the defection: every subscription still active is cancelled the same instant
    defected = chunk.defected_at != NULL
    still = chunk.has[:, :3] & (chunk.end[:, :3] >= chunk.defected_at[:, None]) & defected[:, None]
    customers, slots = np.nonzero(still)
    chunk.reason_code, chunk.reason_text = (
        np.full(count, None, dtype=object),
        np.full(count, None, dtype=object),
    )
    defectors = np.flatnonzero(defected)
    chunk.reason_code[defectors], chunk.reason_text[defectors] = _reason_capture(rng, chunk.reason[defectors])
    plan_now = np.where(
        chunk.change_at[customers, slots] <= chunk.defected_at[customers],
        changes.new_plan[customers, slots],
        chunk.plan[customers, slots],
    )
    price_now = np.where(
        chunk.change_at[customers, slots] <= chunk.defected_at[customers],
        chunk.price_after[customers, slots],
        chunk.price[customers, slots],
    )
    _sub_rows(
        sink,
        chunk,
        customers=customers,
        slot=slots,
        plan_index=plan_now,
        monthly_price=price_now,
        status="CANCELLED",
        started_at=chunk.signup[customers],
        cancelled_at=chunk.defected_at[customers],
        cancel_type=np.where(chunk.invol[customers], "INVOL", "VOL"),
        reason_code=chunk.reason_code[customers],
        reason_text=chunk.reason_text[customers],
        updated_at=chunk.defected_at[customers],
        plans=plans,
    )
    customers = np.flatnonzero(changes.won_back)
    three = np.full(len(customers), 3)
    _active_sub_rows(
        sink,
        chunk,
        customers=customers,
        slot=three,
        plan_index=chunk.plan[customers, 3],
        monthly_price=chunk.price[customers, 3],
        started_at=chunk.start[customers, 3],
        updated_at=chunk.start[customers, 3],
        plans=plans,
    )
    customers = np.flatnonzero(changes.second_defected_at != NULL)
    reason = rng.choice([0, 4], len(customers))
    chunk.wb_code = pick(REASONS, reason)
    _sub_rows(
        sink,
        chunk,
        customers=customers,
        slot=np.full(len(customers), 3),
        plan_index=chunk.plan[customers, 3],
        monthly_price=chunk.price[customers, 3],
        status="CANCELLED",
        started_at=chunk.start[customers, 3],
        cancelled_at=changes.second_defected_at[customers],
        cancel_type="VOL",
        reason_code=chunk.wb_code,
        reason_text=None,
        updated_at=changes.second_defected_at[customers],
        plans=plans,
    )


def _emit_customer_rows(rng, chunk, period: Period, cfg: SimulationConfig, sink: Sink) -> None:
    count = chunk.n
    customers = np.arange(count)
    camp = pa.array(
        np.where(
            chunk.camp >= 0,
            pick(
                [f"CMP{i + 1:03d}" for i in range(max(chunk.camp.max(initial=0) + 1, 1))],
                np.maximum(chunk.camp, 0),
            ),
            None,
        ),
        pa.string(),
    )
    chunk.campaign_id = camp
    email = chunk.crm_email
    sink.emit(
        "crm__customers",
        customers,
        NULL,
        chunk.signup,
        customer_id=chunk.cid,
        email=email,
        full_name=chunk.name,
        region=pick(REGIONS, chunk.region),
        campaign_id=camp,
        signed_up_at=chunk.signup,
        marketing_opt_in=chunk.opt_in,
        updated_at=chunk.signup,
    )
    later = chunk.signup + 7 * DAY
    when = later + (rng.random(count) * np.maximum(period.te - later, 0)).astype(np.int64)
    ch = np.flatnonzero((rng.random(count) < cfg.customer_change_rate) & (when < period.te))
    region = chunk.region.copy()
    opt = chunk.opt_in.copy()
    move = rng.random(count) < 0.5
    region[move] = (region[move] + 1) % len(REGIONS)
    opt[~move] = ~opt[~move]
    sink.emit(
        "crm__customers",
        ch,
        NULL,
        when[ch],
        customer_id=chunk.cid.take(ch),
        email=email.take(ch),
        full_name=chunk.name.take(ch),
        region=pick(REGIONS, region[ch]),
        campaign_id=camp.take(ch),
        signed_up_at=chunk.signup[ch],
        marketing_opt_in=opt[ch],
        updated_at=when[ch],
    )


def _key_rows(chunk, plans: Plans, changes: SubscriptionChanges, key: dict) -> None:
    customers = np.flatnonzero(chunk.defected_at != NULL)
    rows = [
        dict(
            cust=customers,
            episode=np.ones(len(customers), dtype=int),
            started=chunk.signup[customers],
            defected=chunk.defected_at[customers],
            type=np.where(chunk.invol[customers], "involuntary", "voluntary"),
            code=chunk.reason_code[customers],
        )
    ]
    second_defectors = np.flatnonzero(changes.second_defected_at != NULL)
    rows.append(
        dict(
            cust=second_defectors,
            episode=np.full(len(second_defectors), 2),
            started=changes.won_back_at[second_defectors],
            defected=changes.second_defected_at[second_defectors],
            type=np.full(len(second_defectors), "voluntary", dtype=object),
            code=chunk.wb_code,
        )
    )
    key["defections"] = rows
    customers = np.flatnonzero(changes.downgraded)
    key["downgrades"] = dict(
        cust=customers,
        sub=ids("S", chunk.sub_num[customers, 0], 9),
        at=changes.downgraded_at[customers],
        from_plan=plans.code[chunk.plan[customers, 0]],
        to_plan=plans.code[changes.new_plan[customers, 0]],
    )
