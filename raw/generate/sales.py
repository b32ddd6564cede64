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
        for plan_index in range(len(self.code)):
            lower = np.flatnonzero(
                (self.product == self.product[plan_index]) & (self.tier == self.tier[plan_index] - 1)
            )
            if len(lower):
                out[plan == plan_index] = lower[0]
        return out


def campaigns(period: Period, cfg: SimulationConfig, plans: Plans, seed: int) -> SimpleNamespace:
    """The company's campaigns: the same for every chunk (own random stream)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA]))
    count = cfg.campaign_count
    start = np.sort(rng.integers(0, max(1, period.days - 14), count))
    end = np.minimum(start + rng.integers(30, 91, count), period.days - 1)
    plan = rng.choice(plans.by_product[0], count)
    price = (plans.price[plan] * rng.uniform(0.7, 0.9, count)).astype(np.int64) // 100 * 100 + 99
    price = np.minimum(price, plans.price[plan] - 100)
    has_offer = rng.random(count) < 0.7
    offer = np.where(has_offer, pick([f"WELCOME{i:02d}" for i in range(count)], np.arange(count)), None)
    return SimpleNamespace(
        n=count,
        start=start,
        end=end,
        plan=plan,
        price=price,
        offer=offer,
        id=np.array([f"CMP{i + 1:03d}" for i in range(count)], dtype=object),
        channel=pick(CAMPAIGN_CHANNELS, rng.integers(0, len(CAMPAIGN_CHANNELS), count)),
    )


def emit_campaigns(sink: Sink, period: Period, camp: SimpleNamespace, plans: Plans) -> None:
    """Campaigns are known before they run, so every one is exported on the first day."""
    created_at = np.full(camp.n, period.t0 + 6 * HOUR, dtype=np.int64)
    sink.emit(
        "crm__campaigns",
        -1,
        NULL,
        created_at,
        campaign_id=camp.id,
        campaign_name=np.array([f"Campaign {c}" for c in camp.id], dtype=object),
        channel=camp.channel,
        offer_code=camp.offer,
        promised_plan_code=plans.code[camp.plan],
        promised_monthly_price_minor=camp.price,
        currency="EUR",
        starts_on=period.day0 + camp.start,
        ends_on=period.day0 + camp.end,
        updated_at=created_at,
    )


def customers(
    rng, first_customer: int, customer_count: int, period: Period, cfg: SimulationConfig, camp, plans: Plans
):
    """A chunk of customers, their first-episode subscriptions and their billing calendar."""
    chunk = SimpleNamespace(
        n=customer_count, gid=np.arange(first_customer, first_customer + customer_count, dtype=np.int64)
    )
    chunk.cid = ids("C", chunk.gid + 1, 8)
    chunk.account = ids("BA", chunk.gid + 1, 9)
    by_campaign = rng.random(customer_count) < cfg.campaign_share
    length = camp.end - camp.start + 1
    chunk.camp = np.where(by_campaign, rng.choice(camp.n, customer_count, p=length / length.sum()), -1)
    cidx = np.maximum(chunk.camp, 0)
    signup_day = np.where(
        by_campaign,
        camp.start[cidx] + (rng.random(customer_count) * length[cidx]).astype(np.int64),
        rng.integers(0, period.days, customer_count),
    )
    chunk.signup = period.t0 + signup_day * DAY + rng.integers(8 * HOUR, 21 * HOUR, customer_count)
    first, last, dom = (
        rng.integers(0, len(FIRST), customer_count),
        rng.integers(0, len(LAST), customer_count),
        rng.integers(0, 4, customer_count),
    )
    chunk.email = pc.binary_join_element_wise(
        pick(FIRST, first),
        ".",
        pick(LAST, last),
        ".",
        (chunk.gid + 1).astype(str),
        "@",
        pick(DOMAINS, dom),
        "",
    )
    chunk.name = pc.binary_join_element_wise(
        pc.utf8_capitalize(pa.array(pick(FIRST, first), pa.string())),
        pc.utf8_capitalize(pa.array(pick(LAST, last), pa.string())),
        " ",
    )
    chunk.region = rng.integers(0, len(REGIONS), customer_count)
    chunk.opt_in = rng.random(customer_count) < 0.55

    # Subscriptions: slot 0 broadband (always), 1 tv, 2 mobile; slot 3 is a win-back broadband.
    chunk.has = np.zeros((customer_count, 4), dtype=bool)
    chunk.has[:, 0] = True
    chunk.has[:, 1] = rng.random(customer_count) < cfg.tv_rate
    chunk.has[:, 2] = rng.random(customer_count) < cfg.mobile_rate
    chunk.nprod = chunk.has[:, :3].sum(axis=1)
    chunk.plan = np.zeros((customer_count, 4), dtype=np.int64)
    for k in range(3):
        chunk.plan[:, k] = rng.choice(plans.by_product[k], customer_count)
    on_promised = by_campaign & (rng.random(customer_count) < cfg.promised_plan_take_rate)
    chunk.plan[:, 0] = np.where(on_promised, camp.plan[cidx], chunk.plan[:, 0])
    chunk.price = plans.price[chunk.plan]
    chunk.promised_price = np.where(by_campaign, camp.price[cidx], NULL)
    chunk.promised_plan = np.where(by_campaign, camp.plan[cidx], -1)
    chunk.offer_not_honoured = on_promised & (rng.random(customer_count) < cfg.offer_not_honoured_rate)
    # whoever ends up on the advertised plan gets the advertised price, unless the offer is planted as broken
    got_deal = by_campaign & (chunk.plan[:, 0] == chunk.promised_plan) & ~chunk.offer_not_honoured
    chunk.price[:, 0] = np.where(got_deal, chunk.promised_price, chunk.price[:, 0])
    chunk.contract = rng.choice(3, customer_count, p=list(cfg.contract_mix))
    chunk.contract_end_day = np.where(
        chunk.contract > 0, chunk.signup // DAY + pick(CONTRACT_DAYS, chunk.contract).astype(np.int64), NULL
    )
    offer = camp.offer[cidx]
    chunk.promo = by_campaign & (offer != None) & (rng.random(customer_count) < cfg.promo_take_rate)  # noqa: E711
    chunk.promo_code = np.where(chunk.promo, offer, None)

    # Billing calendar: one invoice a month on the customer's billing day, candidates over the whole period.
    chunk.bill_day = rng.integers(1, 29, customer_count)
    month0 = np.datetime64(period.start, "M")
    first_of = (month0 + np.arange(period.months)).astype("datetime64[D]").astype(np.int64)
    chunk.inv_day = first_of[None, :] + (chunk.bill_day[:, None] - 1)
    chunk.inv_t = chunk.inv_day * DAY
    chunk.inv_ok = (chunk.inv_t > chunk.signup[:, None]) & (chunk.inv_day < period.day0 + period.days)
    chunk.first_j = np.where(chunk.inv_ok.any(axis=1), chunk.inv_ok.argmax(axis=1), -1)
    chunk.pay_h = rng.integers(6 * HOUR, 10 * HOUR, (customer_count, period.months))
    chunk.inv_num = chunk.gid[:, None] * period.months + np.arange(period.months)[None, :]
    chunk.sub_num = chunk.gid[:, None] * 4 + np.arange(4)[None, :]
    return chunk


def next_invoice(chunk, cust: np.ndarray, instants: np.ndarray) -> np.ndarray:
    """Index of the first candidate invoice of each customer dated after its instant in `instants` (-1 when
    none)."""
    after = chunk.inv_ok[cust] & (chunk.inv_t[cust] > instants[:, None])
    return np.where(after.any(axis=1), after.argmax(axis=1), -1)
