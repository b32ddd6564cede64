"""Marketing and sales: campaigns, customers, the subscriptions they buy and their billing calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .config import SimulationConfig
from .frame import DAY, HOUR, NULL, Sink, ids, pick
from .reference import Reference

PRODUCTS = ["BROADBAND", "TV", "MOBILE"]
CONTRACTS = ["MONTHLY", "12M", "24M"]
CONTRACT_DAYS = [0, 365, 730]
REGIONS = ["NORTH", "SOUTH", "EAST", "WEST", "CENTRAL", "COAST"]
FIRST = [
    "anna",
    "ben",
    "carla",
    "david",
    "eva",
    "farid",
    "greta",
    "hugo",
    "ines",
    "jonas",
    "kira",
    "lukas",
    "maya",
    "nils",
    "olga",
    "paul",
    "rosa",
    "sami",
    "tara",
    "viktor",
]
LAST = [
    "meyer",
    "novak",
    "rossi",
    "silva",
    "smith",
    "tanaka",
    "weber",
    "berg",
    "costa",
    "dubois",
    "ek",
    "fischer",
    "garcia",
    "horvat",
    "ivanov",
    "jensen",
]
DOMAINS = ["example.com", "mail.example", "post.example", "inbox.example"]
CAMPAIGN_CHANNELS = ["TV", "ONLINE", "DOOR_TO_DOOR", "RETAIL", "PARTNER"]


@dataclass(frozen=True)
class Period:
    start: date
    days: int

    @property
    def t0(self) -> int:
        return (self.start - date(1970, 1, 1)).days * DAY

    @property
    def day0(self) -> int:
        return self.t0 // DAY

    @property
    def te(self) -> int:
        """First instant after the last export day."""
        return self.t0 + self.days * DAY

    @property
    def months(self) -> int:
        return self.days // 28 + 2


class Plans:
    def __init__(self, ref: Reference):
        self.code = np.array([p["plan_code"] for p in ref.plans], dtype=object)
        self.product = np.array([PRODUCTS.index(p["product"]) for p in ref.plans])
        self.tier = np.array([int(p["tier"]) for p in ref.plans])
        self.price = np.array([int(p["list_price_minor"]) for p in ref.plans], dtype=np.int64)
        self.by_product = [np.flatnonzero(self.product == k) for k in range(3)]

    def lower_tier(self, plan: np.ndarray) -> np.ndarray:
        """The plan one tier down of the same product (same plan when already the lowest)."""
        out = plan.copy()
        for i in range(len(self.code)):
            lower = np.flatnonzero((self.product == self.product[i]) & (self.tier == self.tier[i] - 1))
            if len(lower):
                out[plan == i] = lower[0]
        return out


def campaigns(period: Period, cfg: SimulationConfig, plans: Plans, seed: int) -> SimpleNamespace:
    """The company's campaigns: the same for every chunk (own random stream)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA]))
    k = cfg.campaign_count
    start = np.sort(rng.integers(0, max(1, period.days - 14), k))
    end = np.minimum(start + rng.integers(30, 91, k), period.days - 1)
    plan = rng.choice(plans.by_product[0], k)
    price = (plans.price[plan] * rng.uniform(0.7, 0.9, k)).astype(np.int64) // 100 * 100 + 99
    price = np.minimum(price, plans.price[plan] - 100)
    has_offer = rng.random(k) < 0.7
    offer = np.where(has_offer, pick([f"WELCOME{i:02d}" for i in range(k)], np.arange(k)), None)
    return SimpleNamespace(
        n=k,
        start=start,
        end=end,
        plan=plan,
        price=price,
        offer=offer,
        id=np.array([f"CMP{i + 1:03d}" for i in range(k)], dtype=object),
        channel=pick(CAMPAIGN_CHANNELS, rng.integers(0, len(CAMPAIGN_CHANNELS), k)),
    )


def emit_campaigns(sink: Sink, period: Period, camp: SimpleNamespace, plans: Plans) -> None:
    """Campaigns are known before they run, so every one is exported on the first day."""
    t = np.full(camp.n, period.t0 + 6 * HOUR, dtype=np.int64)
    sink.emit(
        "crm__campaigns",
        -1,
        NULL,
        t,
        campaign_id=camp.id,
        campaign_name=np.array([f"Campaign {c}" for c in camp.id], dtype=object),
        channel=camp.channel,
        offer_code=camp.offer,
        promised_plan_code=plans.code[camp.plan],
        promised_monthly_price_minor=camp.price,
        currency="EUR",
        starts_on=period.day0 + camp.start,
        ends_on=period.day0 + camp.end,
        updated_at=t,
    )


def customers(rng, c0: int, n: int, period: Period, cfg: SimulationConfig, camp, plans: Plans):
    """A chunk of customers, their first-episode subscriptions and their billing calendar."""
    s = SimpleNamespace(n=n, gid=np.arange(c0, c0 + n, dtype=np.int64))
    s.cid = ids("C", s.gid + 1, 8)
    s.account = ids("BA", s.gid + 1, 9)
    by_campaign = rng.random(n) < cfg.campaign_share
    length = camp.end - camp.start + 1
    s.camp = np.where(by_campaign, rng.choice(camp.n, n, p=length / length.sum()), -1)
    cidx = np.maximum(s.camp, 0)
    day = np.where(
        by_campaign,
        camp.start[cidx] + (rng.random(n) * length[cidx]).astype(np.int64),
        rng.integers(0, period.days, n),
    )
    s.signup = period.t0 + day * DAY + rng.integers(8 * HOUR, 21 * HOUR, n)
    first, last, dom = rng.integers(0, len(FIRST), n), rng.integers(0, len(LAST), n), rng.integers(0, 4, n)
    s.email = pc.binary_join_element_wise(
        pick(FIRST, first), ".", pick(LAST, last), ".", (s.gid + 1).astype(str), "@", pick(DOMAINS, dom), ""
    )
    s.name = pc.binary_join_element_wise(
        pc.utf8_capitalize(pa.array(pick(FIRST, first), pa.string())),
        pc.utf8_capitalize(pa.array(pick(LAST, last), pa.string())),
        " ",
    )
    s.region = rng.integers(0, len(REGIONS), n)
    s.opt_in = rng.random(n) < 0.55

    # Subscriptions: slot 0 broadband (always), 1 tv, 2 mobile; slot 3 is a win-back broadband.
    s.has = np.zeros((n, 4), dtype=bool)
    s.has[:, 0] = True
    s.has[:, 1] = rng.random(n) < cfg.tv_rate
    s.has[:, 2] = rng.random(n) < cfg.mobile_rate
    s.nprod = s.has[:, :3].sum(axis=1)
    s.plan = np.zeros((n, 4), dtype=np.int64)
    for k in range(3):
        s.plan[:, k] = rng.choice(plans.by_product[k], n)
    on_promised = by_campaign & (rng.random(n) < cfg.promised_plan_take_rate)
    s.plan[:, 0] = np.where(on_promised, camp.plan[cidx], s.plan[:, 0])
    s.price = plans.price[s.plan]
    s.promised_price = np.where(by_campaign, camp.price[cidx], NULL)
    s.promised_plan = np.where(by_campaign, camp.plan[cidx], -1)
    s.offer_not_honoured = on_promised & (rng.random(n) < cfg.offer_not_honoured_rate)
    # whoever ends up on the advertised plan gets the advertised price, unless the offer is planted as broken
    got_deal = by_campaign & (s.plan[:, 0] == s.promised_plan) & ~s.offer_not_honoured
    s.price[:, 0] = np.where(got_deal, s.promised_price, s.price[:, 0])
    s.contract = rng.choice(3, n, p=list(cfg.contract_mix))
    s.contract_end_day = np.where(
        s.contract > 0, s.signup // DAY + pick(CONTRACT_DAYS, s.contract).astype(np.int64), NULL
    )
    offer = camp.offer[cidx]
    s.promo = by_campaign & (offer != None) & (rng.random(n) < cfg.promo_take_rate)  # noqa: E711
    s.promo_code = np.where(s.promo, offer, None)

    # Billing calendar: one invoice a month on the customer's billing day, candidates over the whole period.
    s.bill_day = rng.integers(1, 29, n)
    month0 = np.datetime64(period.start, "M")
    first_of = (month0 + np.arange(period.months)).astype("datetime64[D]").astype(np.int64)
    s.inv_day = first_of[None, :] + (s.bill_day[:, None] - 1)
    s.inv_t = s.inv_day * DAY
    s.inv_ok = (s.inv_t > s.signup[:, None]) & (s.inv_day < period.day0 + period.days)
    s.first_j = np.where(s.inv_ok.any(axis=1), s.inv_ok.argmax(axis=1), -1)
    s.pay_h = rng.integers(6 * HOUR, 10 * HOUR, (n, period.months))
    s.inv_num = s.gid[:, None] * period.months + np.arange(period.months)[None, :]
    s.sub_num = s.gid[:, None] * 4 + np.arange(4)[None, :]
    return s


def next_invoice(s, cust: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Index of the first candidate invoice of each customer dated after instant t (-1 when none)."""
    after = s.inv_ok[cust] & (s.inv_t[cust] > t[:, None])
    return np.where(after.any(axis=1), after.argmax(axis=1), -1)
