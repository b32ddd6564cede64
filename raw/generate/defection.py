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


def _weekly(cust, t, n, weeks, period) -> np.ndarray:
    """Cumulative per-customer event counts by week: out[:, k] = events in weeks < k."""
    wk = (t - period.t0) // WEEK
    ok = (wk >= 0) & (wk < weeks)
    counts = np.bincount(cust[ok] * weeks + wk[ok], minlength=n * weeks).reshape(n, weeks)
    out = np.zeros((n, weeks + 1), dtype=np.int32)
    np.cumsum(counts, axis=1, out=out[:, 1:])
    return out


def hazard(rng, s, *, period: Period, cfg: SimulationConfig, sink: Sink, complaints, billing_plan) -> None:
    """Decide s.defected_at (NULL = stays) and s.invol for the first episode."""
    n, weeks = s.n, -(-period.days // 7)
    pcust, pt, _, _ = sink.poor_times()
    poor = _weekly(pcust, pt, n, weeks, period)
    handled = complaints.well
    well = _weekly(complaints.cust[handled], complaints.closed[handled], n, weeks, period)
    bad = _weekly(complaints.cust[~handled], complaints.opened[~handled] + 7 * DAY, n, weeks, period)
    start_week = (s.signup + 21 * DAY - period.t0) // WEEK + 1
    alive = np.ones(n, dtype=bool)
    week = np.full(n, -1)
    bundle = s.nprod >= 2
    # the hazard each customer faced each week, kept for the answer key (level_probabilities)
    s.weekly_hazard = np.zeros((n, weeks), dtype=np.float64)
    for k in range(weeks):
        lo = max(k - RECENT_WEEKS, 0)
        recent = poor[:, k] - poor[:, lo]
        h = np.where(recent >= 2, cfg.hazard_two_plus_poor, np.where(recent == 1, cfg.hazard_one_poor, 0.0))
        h = h + cfg.base_weekly_hazard
        t = period.t0 + k * WEEK
        sticky = (
            ((s.contract_end_day * DAY > t) & (s.contract_end_day != NULL)).astype(int)
            + bundle
            + (t - s.signup >= 730 * DAY)
        )
        h = h * cfg.stickiness_damping**sticky
        h = np.where(well[:, k] - well[:, lo] > 0, h * cfg.handled_complaint_damping, h)
        h = np.where(bad[:, k] - bad[:, lo] > 0, h * cfg.unhandled_complaint_boost, h)
        s.weekly_hazard[:, k] = np.where(k >= start_week, h, 0.0)
        hit = alive & (k >= start_week) & (rng.random(n) < h)
        week[hit] = k
        alive &= ~hit
    when = (period.day0 + week * 7 + rng.integers(0, 7, n)) * DAY + rng.integers(9 * HOUR, 19 * HOUR, n)
    vol = np.where((week >= 0) & (when < period.te), when, NULL)
    invol = billing_plan.invol_at
    use_invol = (invol != NULL) & ((vol == NULL) | (invol < vol))
    s.defected_at = np.where(use_invol, invol, vol)
    s.invol = use_invol
    s.invol_planned_at = invol
    # stated reason: the silo of the latest recent poor experience, else a generic one
    s.reason = np.where(use_invol, 6, rng.choice([0, 4, 5, 7], n, p=[0.35, 0.3, 0.2, 0.15]))
    d = np.flatnonzero(s.defected_at != NULL)
    order = np.lexsort((pt, pcust))
    pc_s, pt_s = pcust[order], pt[order]
    silo_of_group = np.array([SILO_REASON.get(s.rule_silo[p["rule"]], -1) for p in sink.poor] or [-1])
    group = (
        np.repeat(np.arange(len(sink.poor)), [len(p["cust"]) for p in sink.poor])[order]
        if sink.poor
        else np.zeros(0, dtype=int)
    )
    base = np.int64(1) << 42
    key = pc_s * base + (pt_s - period.t0)
    i = np.searchsorted(key, d * base + (s.defected_at[d] - period.t0), side="left") - 1
    ok = i >= 0
    ok[ok] &= (pc_s[i[ok]] == d[ok]) & (pt_s[i[ok]] > s.defected_at[d[ok]] - 90 * DAY)
    stated = np.where(ok, silo_of_group[group[np.maximum(i, 0)]] if len(group) else -1, -1)
    vol_d = ~use_invol[d]
    s.reason[d] = np.where(vol_d & (stated >= 0) & (rng.random(len(d)) < 0.7), stated, s.reason[d])


def _voluntary_cdf(survive: np.ndarray, hazard: np.ndarray, day0: int, at: np.ndarray) -> np.ndarray:
    """P(voluntary defection before `at`) per customer, as hazard() draws it: week w with probability
    survive[:, w] * hazard[:, w] (survive[:, w] = no defection in the weeks before w), then a day of that week
    (uniform 0-6) and a second between 09:00 and 19:00 (uniform). Every week before the one holding `at`
    counts whole, so only that week's share needs the within-week distribution."""
    n, weeks = hazard.shape
    week = np.clip((at // DAY - day0) // 7, -1, weeks)
    rows = np.arange(n)
    inside = (week >= 0) & (week < weeks)
    w = np.clip(week, 0, weeks - 1)
    into = at - (day0 + 7 * w) * DAY  # seconds of `at` into its week
    within = np.zeros(n)
    for d in range(7):
        within += np.clip((into - d * DAY - 9 * HOUR) / (10 * HOUR), 0.0, 1.0) / 7
    before = 1 - survive[rows, np.clip(week, 0, weeks)]
    this_week = np.where(inside, survive[rows, w] * hazard[rows, w] * within, 0.0)
    return np.where(week < 0, 0.0, before + this_week)


def level_probabilities(s, sink: Sink, period: Period, horizon_days: int) -> dict:
    """The planted probability of defecting within the horizon after exactly k poor experiences.

    For each customer and level 0, 1, 2, 3+ reached in the first episode (level 0 at sign-up, level k at the
    k-th planted poor experience exported), the exact probability, under the weekly hazard hazard() drew from
    and the planned involuntary cancellation, of defecting within `horizon_days` of reaching the level and
    before the next one, given the customer was still a customer when the level's evidence was complete.
    A poor experience is exported only if its evidence is complete before the defection, so the next level
    cuts the window at the later of its instant and its evidence's completion. Empty when the window does not
    lie inside the simulated period (its hazard is not planted). From the simulation's own state only.
    """
    n, horizon = s.n, horizon_days * DAY
    parts = [p for p in sink.poor]
    cust = np.concatenate([p["cust"] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    t = np.concatenate([p["t"] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    fin = np.concatenate([p["finish"] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    written = np.concatenate([p["written"] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    keep = (written < period.te) & (t < period.te) & (t >= s.signup[cust])
    cust, t, fin = cust[keep], t[keep], np.maximum(fin[keep], t[keep])
    order = np.lexsort((t, cust))
    cust, t, fin = cust[order], t[order], fin[order]
    # earliest evidence completion from each item on, within its customer (a suffix minimum per customer)
    big = np.int64(1) << 41
    shifted = (fin - period.t0)[::-1] + cust[::-1] * big
    fin_from = (np.minimum.accumulate(shifted) - cust[::-1] * big)[::-1] + period.t0
    first = np.searchsorted(cust, np.arange(n))
    count = np.searchsorted(cust, np.arange(n), side="right") - first
    last = max(len(t) - 1, 0)
    survive = np.cumprod(np.hstack([np.ones((n, 1)), 1 - s.weekly_hazard]), axis=1)
    far = np.iinfo(np.int64).max
    ended = np.where(s.defected_at == NULL, far, s.defected_at)
    invol = np.where(s.invol_planned_at == NULL, far, s.invol_planned_at)
    out = {"cust": [], "level": [], "reached": [], "window_end": [], "probability": []}
    for level in range(4):
        item = np.minimum(first + level - 1, last)
        has = np.ones(n, dtype=bool) if level == 0 else count >= level
        reached = s.signup if level == 0 else np.where(has, t[item] if len(t) else 0, 0)
        seen = s.signup if level == 0 else np.where(has, fin[item] if len(t) else 0, 0)
        window_end = reached + horizon
        if level < 3:
            cut = np.where(
                count >= level + 1, fin_from[np.minimum(first + level, last)] if len(t) else far, far
            )
            window_end = np.minimum(window_end, cut)
        c = np.flatnonzero(has & (ended > seen))  # exported: still a customer when the evidence was complete
        a, b = seen[c], np.maximum(window_end[c], seen[c])
        f_a = _voluntary_cdf(survive[c], s.weekly_hazard[c], period.day0, a)
        f_b = _voluntary_cdf(survive[c], s.weekly_hazard[c], period.day0, b)
        voluntary = (f_b - f_a) / np.maximum(1 - f_a, 1e-12)
        planned = (invol[c] > a) & (invol[c] <= b)
        inside = reached[c] + horizon <= period.te
        out["cust"].append(c)
        out["level"].append(np.full(len(c), level))
        out["reached"].append(reached[c])
        out["window_end"].append(window_end[c])
        out["probability"].append(np.where(inside, np.where(planned, 1.0, voluntary), np.nan))
    return {k: np.concatenate(v) for k, v in out.items()}


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


def subscriptions(rng, s, period: Period, cfg: SimulationConfig, sink: Sink, plans: Plans, key: dict) -> None:
    """Subscription versions and customer versions; sets s.start/end/price_after/change_at for billing."""
    n = s.n
    d1 = np.where(s.defected_at == NULL, period.te + DAY, s.defected_at)
    s.start = np.repeat(s.signup[:, None], 4, axis=1)
    s.end = np.repeat(d1[:, None], 4, axis=1)
    s.price_after = s.price.copy()
    s.change_at = np.full((n, 4), np.iinfo(np.int64).max)
    new_plan = s.plan.copy()

    # downgrade of the broadband plan
    lower = plans.lower_tier(s.plan[:, 0])
    later = s.signup + 30 * DAY
    t_dg = later + (rng.random(n) * np.maximum(period.te - later, 0)).astype(np.int64)
    dg = (lower != s.plan[:, 0]) & (rng.random(n) < cfg.downgrade_rate) & (t_dg < np.minimum(d1, period.te))
    low_price = np.minimum(plans.price[lower], s.price[:, 0] - 500)
    low_price = np.where((lower == s.promised_plan), np.minimum(low_price, s.promised_price), low_price)
    s.change_at[dg, 0] = t_dg[dg]
    s.price_after[dg, 0] = low_price[dg]
    new_plan[dg, 0] = lower[dg]

    # one product of a bundle cancelled, the customer stays
    pslot = np.where(s.has[:, 1] & s.has[:, 2], rng.integers(1, 3, n), np.where(s.has[:, 1], 1, 2))
    t_pc = later + (rng.random(n) * np.maximum(period.te - later, 0)).astype(np.int64)
    pcan = (s.nprod >= 2) & (rng.random(n) < cfg.partial_cancel_rate) & (t_pc < np.minimum(d1, period.te))
    s.end[pcan, pslot[pcan]] = t_pc[pcan]

    # win-back: a new broadband subscription months after a voluntary defection, a second episode
    defected = s.defected_at != NULL
    t_wb = d1 + rng.integers(30, 181, n) * DAY
    wb = defected & ~s.invol & (rng.random(n) < cfg.winback_rate) & (t_wb < period.te - DAY)
    s.has[:, 3] = wb
    s.start[:, 3] = np.where(wb, t_wb, period.te + DAY)
    wk = rng.geometric(cfg.winback_weekly_hazard, n)
    d2 = (t_wb // DAY + wk * 7) * DAY + rng.integers(9 * HOUR, 19 * HOUR, n)
    d2 = np.where(wb & (d2 < period.te), d2, NULL)
    s.end[:, 3] = np.where(d2 != NULL, d2, period.te + DAY)
    wplan = rng.choice(plans.by_product[0], n)
    s.plan[:, 3] = wplan
    new_plan[:, 3] = wplan
    wprice = plans.price[wplan]
    s.price[:, 3] = np.where(wplan == s.promised_plan, np.minimum(wprice, s.promised_price), wprice)
    s.price_after[:, 3] = s.price[:, 3]

    changes = SubscriptionChanges(
        new_plan=new_plan,
        downgraded=dg,
        downgraded_at=t_dg,
        partial_cancelled=pcan,
        partial_slot=pslot,
        partial_cancelled_at=t_pc,
        won_back=wb,
        won_back_at=t_wb,
        second_defected_at=d2,
    )
    _emit_subscription_rows(rng, s, period, sink, plans, changes)
    _emit_customer_rows(rng, s, period, cfg, sink)
    _key_rows(s, plans, changes, key)


def _sub_rows(
    sink: Sink,
    s,
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
    sub = s.sub_num[customers, slot]
    contract = np.where(slot == 3, 0, s.contract[customers])
    sink.emit(
        "crm__subscriptions",
        customers,
        NULL,
        updated_at,
        subscription_id=ids("S", sub, 9),
        customer_id=s.cid.take(customers),
        bundle_id=pa.array(
            np.where(
                (s.nprod[customers] >= 2) & (slot < 3) & in_bundle,
                np.asarray(ids("B", s.gid[customers], 8), dtype=object),
                None,
            ),
            pa.string(),
        ),
        product=pick(PRODUCTS, plans.product[plan_index]),
        plan_code=plans.code[plan_index],
        contract_type=pick(CONTRACTS, contract),
        contract_ends_on=np.where(contract > 0, s.contract_end_day[customers], NULL),
        monthly_price_minor=monthly_price,
        currency="EUR",
        promo_code=np.where(slot == 0, s.promo_code[customers], None),
        status=status,
        started_at=started_at,
        cancelled_at=cancelled_at,
        cancel_type=cancel_type,
        cancel_reason_code=reason_code,
        cancel_reason_text=reason_text,
        updated_at=updated_at,
    )


def _active_sub_rows(
    sink: Sink, s, *, customers, slot, plan_index, monthly_price, started_at, updated_at, plans
):
    """Version rows of subscriptions active at `updated_at` (never cancelled so far)."""
    _sub_rows(
        sink,
        s,
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
    n = len(reason)
    mode = rng.choice(3, n, p=[0.4, 0.3, 0.3])  # 0 code, 1 text, 2 both
    has_text = np.isin(reason, list(TEXTS))
    mode = np.where(has_text, mode, 0)
    text = np.array(
        [TEXTS[r][i % 3] if r in TEXTS else None for r, i in zip(reason, rng.integers(0, 3, n), strict=True)],
        dtype=object,
    )
    code = np.where(mode != 1, pick(REASONS, reason), None)
    return code, np.where(mode != 0, text, None)


def _emit_subscription_rows(
    rng, s, period: Period, sink: Sink, plans: Plans, changes: SubscriptionChanges
) -> None:
    n = s.n
    c, k = np.nonzero(s.has[:, :3])
    _active_sub_rows(
        sink,
        s,
        customers=c,
        slot=k,
        plan_index=s.plan[c, k],
        monthly_price=s.price[c, k],
        started_at=s.signup[c],
        updated_at=s.signup[c],
        plans=plans,
    )
    c = np.flatnonzero(changes.downgraded)
    _active_sub_rows(
        sink,
        s,
        customers=c,
        slot=np.zeros(len(c), dtype=int),
        plan_index=changes.new_plan[c, 0],
        monthly_price=s.price_after[c, 0],
        started_at=s.signup[c],
        updated_at=changes.downgraded_at[c],
        plans=plans,
    )
    c = np.flatnonzero(changes.partial_cancelled)
    k = changes.partial_slot[c]
    code = pick(REASONS, rng.choice([0, 4, 7], len(c)))
    _sub_rows(
        sink,
        s,
        customers=c,
        slot=k,
        plan_index=s.plan[c, k],
        monthly_price=s.price[c, k],
        status="CANCELLED",
        started_at=s.signup[c],
        cancelled_at=changes.partial_cancelled_at[c],
        cancel_type="VOL",
        reason_code=code,
        reason_text=None,
        updated_at=changes.partial_cancelled_at[c],
        plans=plans,
    )
    # the defection: every subscription still active is cancelled the same instant
    defected = s.defected_at != NULL
    still = s.has[:, :3] & (s.end[:, :3] >= s.defected_at[:, None]) & defected[:, None]
    c, k = np.nonzero(still)
    s.reason_code, s.reason_text = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    dc = np.flatnonzero(defected)
    s.reason_code[dc], s.reason_text[dc] = _reason_capture(rng, s.reason[dc])
    plan_now = np.where(s.change_at[c, k] <= s.defected_at[c], changes.new_plan[c, k], s.plan[c, k])
    price_now = np.where(s.change_at[c, k] <= s.defected_at[c], s.price_after[c, k], s.price[c, k])
    _sub_rows(
        sink,
        s,
        customers=c,
        slot=k,
        plan_index=plan_now,
        monthly_price=price_now,
        status="CANCELLED",
        started_at=s.signup[c],
        cancelled_at=s.defected_at[c],
        cancel_type=np.where(s.invol[c], "INVOL", "VOL"),
        reason_code=s.reason_code[c],
        reason_text=s.reason_text[c],
        updated_at=s.defected_at[c],
        plans=plans,
    )
    c = np.flatnonzero(changes.won_back)
    three = np.full(len(c), 3)
    _active_sub_rows(
        sink,
        s,
        customers=c,
        slot=three,
        plan_index=s.plan[c, 3],
        monthly_price=s.price[c, 3],
        started_at=s.start[c, 3],
        updated_at=s.start[c, 3],
        plans=plans,
    )
    c = np.flatnonzero(changes.second_defected_at != NULL)
    reason = rng.choice([0, 4], len(c))
    s.wb_code = pick(REASONS, reason)
    _sub_rows(
        sink,
        s,
        customers=c,
        slot=np.full(len(c), 3),
        plan_index=s.plan[c, 3],
        monthly_price=s.price[c, 3],
        status="CANCELLED",
        started_at=s.start[c, 3],
        cancelled_at=changes.second_defected_at[c],
        cancel_type="VOL",
        reason_code=s.wb_code,
        reason_text=None,
        updated_at=changes.second_defected_at[c],
        plans=plans,
    )


def _emit_customer_rows(rng, s, period: Period, cfg: SimulationConfig, sink: Sink) -> None:
    n = s.n
    c = np.arange(n)
    camp = pa.array(
        np.where(
            s.camp >= 0,
            pick(
                [f"CMP{i + 1:03d}" for i in range(max(s.camp.max(initial=0) + 1, 1))], np.maximum(s.camp, 0)
            ),
            None,
        ),
        pa.string(),
    )
    s.campaign_id = camp
    email = s.crm_email
    sink.emit(
        "crm__customers",
        c,
        NULL,
        s.signup,
        customer_id=s.cid,
        email=email,
        full_name=s.name,
        region=pick(REGIONS, s.region),
        campaign_id=camp,
        signed_up_at=s.signup,
        marketing_opt_in=s.opt_in,
        updated_at=s.signup,
    )
    later = s.signup + 7 * DAY
    when = later + (rng.random(n) * np.maximum(period.te - later, 0)).astype(np.int64)
    ch = np.flatnonzero((rng.random(n) < cfg.customer_change_rate) & (when < period.te))
    region = s.region.copy()
    opt = s.opt_in.copy()
    move = rng.random(n) < 0.5
    region[move] = (region[move] + 1) % len(REGIONS)
    opt[~move] = ~opt[~move]
    sink.emit(
        "crm__customers",
        ch,
        NULL,
        when[ch],
        customer_id=s.cid.take(ch),
        email=email.take(ch),
        full_name=s.name.take(ch),
        region=pick(REGIONS, region[ch]),
        campaign_id=camp.take(ch),
        signed_up_at=s.signup[ch],
        marketing_opt_in=opt[ch],
        updated_at=when[ch],
    )


def _key_rows(s, plans: Plans, changes: SubscriptionChanges, key: dict) -> None:
    c = np.flatnonzero(s.defected_at != NULL)
    rows = [
        dict(
            cust=c,
            episode=np.ones(len(c), dtype=int),
            started=s.signup[c],
            defected=s.defected_at[c],
            type=np.where(s.invol[c], "involuntary", "voluntary"),
            code=s.reason_code[c],
        )
    ]
    c2 = np.flatnonzero(changes.second_defected_at != NULL)
    rows.append(
        dict(
            cust=c2,
            episode=np.full(len(c2), 2),
            started=changes.won_back_at[c2],
            defected=changes.second_defected_at[c2],
            type=np.full(len(c2), "voluntary", dtype=object),
            code=s.wb_code,
        )
    )
    key["defections"] = rows
    c = np.flatnonzero(changes.downgraded)
    key["downgrades"] = dict(
        cust=c,
        sub=ids("S", s.sub_num[c, 0], 9),
        at=changes.downgraded_at[c],
        from_plan=plans.code[s.plan[c, 0]],
        to_plan=plans.code[changes.new_plan[c, 0]],
    )
