"""Field service and care: installation visits, cases, contacts, repairs and the poor experiences in them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyarrow as pa

from .billing import FEE_LINE, line_ids
from .config import SimulationConfig
from .frame import BOUNDARY_OFFSETS, DAY, HOUR, MINUTE, NULL, Sink, ids, pick, spread
from .sales import Period, next_invoice

SLOTS = np.array([8, 12, 14]) * HOUR
NOTE_TEXT = {
    "OK": "Work done, customer happy.",
    "MISSING_TOOL": "Could not finish: splicer not in van.",
    "PROPERTY_DAMAGE": "Drilled through a pipe in the hallway.",
}
CASE_TYPES = ["SERVICE_FAULT", "BILLING_QUERY", "MOVING", "GENERAL"]
CHANNELS = ["PHONE", "EMAIL", "CHAT", "SOCIAL"]
APPT_WIDTH, CASE_WIDTH, CONTACT_WIDTH = 10, 10, 11
# a case given a boundary visit fee is moved by at most this many whole days to sit at the quote window's edge
MAX_FEE_CASE_SHIFT_DAYS = 15


def _fee_quote_boundary(chunk, customers, opened, candidates, invoices, *, quote_days: int, earliest):
    """Cases among `candidates` to move by whole days so that their first contact falls the day before, on
    and the day after the first day of the quote window (`quote_days` days before an invoice date), billed
    on the invoice `invoices` (the first after the repair) or the one after it, whichever needs the smaller
    move of at most MAX_FEE_CASE_SHIFT_DAYS days; the moved contact stays at or after `earliest` (per case).
    Returns (cases, invoices, days from the contact's day to the invoice date, move in seconds)."""
    owners = customers[candidates]
    following = np.minimum(invoices + 1, chunk.inv_ok.shape[1] - 1)
    following_ok = (invoices + 1 < chunk.inv_ok.shape[1]) & chunk.inv_ok[owners, following]
    opened_day = opened[candidates] // DAY
    taken = np.zeros(len(candidates), dtype=bool)
    parts = []
    for offset in (-1, 0, 1):
        count = int(np.count_nonzero(offset == BOUNDARY_OFFSETS))
        target = quote_days + offset
        shift_next = chunk.inv_day[owners, invoices] - opened_day - target
        shift_following = np.where(following_ok, chunk.inv_day[owners, following] - opened_day - target, DAY)
        use_following = np.abs(shift_following) < np.abs(shift_next)
        shift = np.where(use_following, shift_following, shift_next) * DAY
        fits = (np.abs(shift) <= MAX_FEE_CASE_SHIFT_DAYS * DAY) & (opened[candidates] + shift >= earliest)
        near = np.flatnonzero(~taken & fits)
        if len(near) == 0:
            continue
        count = min(count, len(near))
        picked = spread(near, count)
        taken[picked] = True
        invoice = np.where(use_following, following, invoices)[picked]
        parts.append((candidates[picked], invoice, np.full(count, target), shift[picked]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def appt_ids(chunk, cust, visit_number):
    return ids("A", chunk.gid[cust] * 20 + visit_number, APPT_WIDTH)


def case_num(chunk, cust, case_number):
    return chunk.gid[cust] * 40 + case_number


def _visit(rng, count, wstart, late=None, late_after=0):
    """Arrival and completion of a visit inside its 4-hour window (or late: 15-165 minutes beyond `late_after`
    seconds past the window's end, the lateness the company tolerates)."""
    arrived = wstart + rng.integers(0, int(3.5 * HOUR), count)
    if late is not None:
        lateness = late_after + rng.integers(15 * MINUTE, 165 * MINUTE, count)
        arrived = np.where(late, wstart + 4 * HOUR + lateness, arrived)
    return arrived, arrived + rng.integers(1 * HOUR, 3 * HOUR, count)


def _emit_appts(
    sink: Sink,
    chunk,
    *,
    customers,
    appointment_id,
    appointment_type,
    previous_appointment_id,
    booked_at,
    window_start_at,
    arrived_at,
    completed_at,
    status,
    note_codes,
    finish,
    rng,
    case_id=None,
    subscription_slot=0,
):
    count = len(customers)
    written = np.where(completed_at != NULL, completed_at, window_start_at + 4 * HOUR)
    sink.emit(
        "crm__appointments",
        customers,
        finish,
        written,
        appointment_id=appointment_id,
        customer_id=chunk.cid.take(customers),
        subscription_id=ids("S", chunk.sub_num[customers, subscription_slot], 9),
        case_id=case_id if case_id is not None else None,
        appointment_type=appointment_type,
        previous_appointment_id=previous_appointment_id,
        booked_at=booked_at,
        window_start_at=window_start_at,
        window_end_at=window_start_at + 4 * HOUR,
        arrived_at=arrived_at,
        completed_at=completed_at,
        status=status,
        technician_id=ids("T", rng.integers(1, 600, count), 4),
        tech_note_codes=note_codes,
        tech_notes=np.array([NOTE_TEXT.get(code) for code in note_codes], dtype=object)
        if count
        else note_codes,
    )


def installs(rng, chunk, period: Period, cfg: SimulationConfig, sink: Sink) -> SimpleNamespace:
    """One INSTALL per customer, some planted poor; returns the completed visits (survey triggers)."""
    count = chunk.n
    cust = np.arange(count)
    rates = [cfg.late_arrival_rate, cfg.no_show_rate, cfg.missing_tool_rate, cfg.property_damage_rate]
    kind = rng.choice(
        5, count, p=[1 - sum(rates), *rates]
    )  # 0 normal, 1 late, 2 no-show, 3 missing tool, 4 damage
    booked = chunk.signup + 10 * MINUTE
    window_start = (chunk.signup // DAY + rng.integers(2, 8, count)) * DAY + rng.choice(SLOTS, count)
    tolerated = int(chunk.thresholds["late_arrival"]) * MINUTE
    arrived, completed = _visit(rng, count, window_start, late=kind == 1, late_after=tolerated)
    boundary = None
    ordinary = np.flatnonzero(kind == 0)
    if cfg.late_arrival_rate > 0 and len(ordinary) >= len(BOUNDARY_OFFSETS):
        # boundary events: a few ordinary installs arriving a second before, at and after the seed's lateness
        # threshold past the window's end; only those strictly after it are late (the rule's comparison is >)
        at = spread(ordinary, len(BOUNDARY_OFFSETS))
        threshold = chunk.thresholds["late_arrival"] * MINUTE
        value = int(threshold) + BOUNDARY_OFFSETS
        poor = value > threshold
        completed[at] += window_start[at] + 4 * HOUR + value - arrived[at]  # the visit keeps its length
        arrived[at] = window_start[at] + 4 * HOUR + value
        kind[at[poor]] = 1  # planted below with the rule's other events
        boundary = (at, value, threshold, poor)
    # a follow-up visit after a missing tool is a repeat visit; boundary events: a few ordinary installs
    # followed up a second before, at and after the seed's repeat-visit window past their completion (a
    # follow-up up to and including it is a repeat visit: the rule's comparison is <=)
    repeat_visit = kind == 3
    follow_up = kind == 3
    revisit = None
    still_ordinary = np.setdiff1d(ordinary, boundary[0] if boundary is not None else [])
    if cfg.missing_tool_rate > 0 and len(still_ordinary) >= len(BOUNDARY_OFFSETS):
        revisit_at = spread(still_ordinary, len(BOUNDARY_OFFSETS))
        revisit_threshold = chunk.thresholds["repeat_visit"] * DAY
        revisit_value = int(revisit_threshold) + BOUNDARY_OFFSETS
        revisit_poor = revisit_value <= revisit_threshold
        follow_up[revisit_at] = True
        repeat_visit[revisit_at[revisit_poor]] = True
        revisit = (revisit_at, revisit_value, revisit_threshold, revisit_poor)
    noshow = kind == 2
    arrived, completed = np.where(noshow, NULL, arrived), np.where(noshow, NULL, completed)
    notes = pick(["OK", "OK", None, "MISSING_TOOL", "PROPERTY_DAMAGE"], kind)
    first_ids = appt_ids(chunk, cust, 0)
    # the second visit: a reschedule after a no-show, a follow-up after a missing tool
    second = (kind == 2) | follow_up
    second_customers = cust[second]
    second_window_start = window_start[second] + rng.integers(2, 6, len(second_customers)) * DAY
    # a follow-up comes 2 days up to 3 days short of the seed's repeat-visit window
    follow_up_days = rng.integers(2, int(chunk.thresholds["repeat_visit"]) - 3, len(second_customers))
    second_window_start = np.where(
        kind[second] == 3, window_start[second] + follow_up_days * DAY, second_window_start
    )
    if revisit is not None:
        revisit_at, revisit_value = revisit[0], revisit[1]
        revisit_rows = np.searchsorted(second_customers, revisit_at)
        second_window_start[revisit_rows] = completed[revisit_at] + revisit_value
    second_arrived, second_completed = _visit(rng, len(second_customers), second_window_start)
    finish = np.where(noshow, window_start + 4 * HOUR, completed)
    second_finish = second_completed
    finish[second] = np.maximum(finish[second], second_finish)
    second_ids = appt_ids(chunk, second_customers, 1)
    _emit_appts(
        sink,
        chunk,
        customers=cust,
        appointment_id=first_ids,
        appointment_type="INSTALL",
        previous_appointment_id=None,
        booked_at=booked,
        window_start_at=window_start,
        arrived_at=arrived,
        completed_at=completed,
        status=np.where(noshow, "NO_SHOW", "COMPLETED"),
        note_codes=notes,
        finish=finish,
        rng=rng,
    )
    _emit_appts(
        sink,
        chunk,
        customers=second_customers,
        appointment_id=second_ids,
        appointment_type=np.where(kind[second] == 2, "INSTALL", "FOLLOW_UP"),
        previous_appointment_id=first_ids.take(second_customers),
        booked_at=window_start[second] + 5 * HOUR,
        window_start_at=second_window_start,
        arrived_at=second_arrived,
        completed_at=second_completed,
        status="COMPLETED",
        note_codes=np.full(len(second_customers), "OK", dtype=object),
        finish=finish[second],
        rng=rng,
    )
    for rule, kind_code, at in [
        ("late_arrival", 1, arrived),
        ("no_show", 2, window_start + 4 * HOUR),
        ("missing_tool", 3, arrived),
        ("property_damage", 4, arrived),
    ]:
        planted = kind == kind_code
        sink.plant(
            rule,
            customers=cust[planted],
            occurred_at=at[planted],
            table="crm__appointments",
            evidence=first_ids.filter(planted),
            finish=finish[planted],
            written=at[planted],
        )
    if boundary is not None:
        at, value, threshold, poor = boundary
        sink.plant_boundary(
            "late_arrival",
            cust=cust[at],
            table="crm__appointments",
            evidence=first_ids.take(at),
            value=value,
            threshold=threshold,
            unit="seconds after the window",
            poor=poor,
            finish=finish[at],
            written=arrived[at],
        )
    if revisit is not None:
        revisit_at, revisit_value, revisit_threshold, revisit_poor = revisit
        revisit_rows = np.searchsorted(second_customers, revisit_at)
        sink.plant_boundary(
            "repeat_visit",
            cust=revisit_at,
            table="crm__appointments",
            evidence=second_ids.take(revisit_rows),
            value=revisit_value,
            threshold=revisit_threshold,
            unit="seconds after the previous visit's completion",
            poor=revisit_poor,
            finish=finish[revisit_at],
            written=second_window_start[revisit_rows],
        )
    repeat_follow_up = repeat_visit[second]
    sink.plant(
        "repeat_visit",
        customers=second_customers[repeat_follow_up],
        occurred_at=second_window_start[repeat_follow_up],
        table="crm__appointments",
        evidence=second_ids.filter(repeat_follow_up),
        finish=finish[second][repeat_follow_up],
        written=second_window_start[repeat_follow_up],
    )
    return SimpleNamespace(
        cust=np.concatenate([cust[~noshow], second_customers]),
        aid=[first_ids.filter(~noshow), second_ids],
        at=np.concatenate([completed[~noshow], second_completed]),
        finish=np.concatenate([finish[~noshow], finish[second]]),
        poor=np.concatenate([kind[~noshow] != 0, (kind[second] != 0) | repeat_visit[second]]),
    )


def care(rng, chunk, period: Period, cfg: SimulationConfig, sink: Sink) -> SimpleNamespace:
    """Cases with contacts and repairs; returns contacts (survey triggers) and visit fees for billing."""
    max_cases = min(15, int(np.ceil(period.days / 365 * cfg.cases_per_year * 3)) + 2)
    gaps = 21 * DAY + rng.exponential(365 * DAY / cfg.cases_per_year, (chunk.n, max_cases)).astype(np.int64)
    times = chunk.signup[:, None] + 14 * DAY + np.cumsum(gaps, axis=1)
    cust, case_index = np.nonzero(times < period.te - DAY)
    count = len(cust)
    opened = times[cust, case_index] // DAY * DAY + rng.integers(7 * HOUR, 22 * HOUR, count)
    fault_share = cfg.service_fault_share
    case_type_index = rng.choice(
        4, count, p=[fault_share, (1 - fault_share) * 0.45, (1 - fault_share) * 0.15, (1 - fault_share) * 0.4]
    )
    channel_index = rng.choice(4, count, p=[0.5, 0.2, 0.2, 0.1])
    case_numbers = case_num(chunk, cust, case_index)
    case_id = ids("K", case_numbers, CASE_WIDTH)
    fault = case_type_index == 0

    # first contact
    long_wait = rng.random(count) < cfg.long_wait_rate
    transfers = rng.random(count) < cfg.many_transfers_rate
    promise = fault & (rng.random(count) < cfg.tech_promise_rate)
    broken = promise & (rng.random(count) < cfg.broken_promise_rate)
    due = (opened // DAY + 1) * DAY + 18 * HOUR
    repair = fault & (promise | (rng.random(count) < cfg.repair_rate))
    day_off = np.where(promise, np.where(broken, rng.integers(3, 8, count), 1), rng.integers(2, 7, count))
    repair_start = (opened // DAY + day_off) * DAY + rng.choice(SLOTS, count)
    repair_arrived, repair_done = _visit(rng, count, repair_start)
    # boundary events of the rules measured in time, planted at the seed's threshold: the rule's comparison
    # decides which are poor
    timed_boundary = []
    kept_promises = np.flatnonzero(promise & ~broken & ~long_wait & ~transfers)
    if cfg.broken_promise_rate > 0 and len(kept_promises) >= len(BOUNDARY_OFFSETS):
        # a few kept tech promises whose repair window starts a second before, at and after the promise's
        # due time plus the seed's grace; a window starting up to and including it keeps the promise
        at = spread(kept_promises, len(BOUNDARY_OFFSETS))
        threshold = chunk.thresholds["broken_promise"] * HOUR
        value = int(threshold) + BOUNDARY_OFFSETS
        poor = value > threshold
        shift = due[at] + value - repair_start[at]  # the visit keeps its arrival and length inside the window
        repair_start[at] += shift
        repair_arrived[at] += shift
        repair_done[at] += shift
        broken[at[poor]] = True  # planted below with the rule's other events
        timed_boundary.append(
            ("broken_promise", "seconds after the promise's due time", at, value, threshold, poor)
        )

    # visit fee on a customer's first repair, quoted in the first contact or not quoted at all
    fee = np.zeros(count, dtype=bool)
    repair_cases = np.flatnonzero(repair)
    _, first_repair_position = np.unique(cust[repair_cases], return_index=True)
    first_repairs = repair_cases[first_repair_position]
    fee[first_repairs] = rng.random(len(first_repairs)) < cfg.visit_fee_rate
    unquoted = fee & (promise | (rng.random(count) < cfg.unquoted_fee_rate))
    fee_j = np.full(count, -1)
    fee_j[fee] = next_invoice(chunk, cust[fee], repair_done[fee])
    fee_t = np.where(fee_j >= 0, chunk.inv_t[cust, np.maximum(fee_j, 0)], NULL)
    quote_days = int(chunk.thresholds["unquoted_fee"])
    fee_boundary = np.zeros(count, dtype=bool)
    fee_boundary_events = None
    # a customer with a tech promise is left out: the moved repair must not keep or break a promise
    promised_customer = np.zeros(chunk.n, dtype=bool)
    promised_customer[cust[promise]] = True
    unbilled = first_repairs[
        ~fee[first_repairs]
        & ~promised_customer[cust[first_repairs]]
        & ~long_wait[first_repairs]
        & ~transfers[first_repairs]
    ]
    unbilled_invoice = next_invoice(chunk, cust[unbilled], repair_done[unbilled])
    unbilled, unbilled_invoice = unbilled[unbilled_invoice >= 0], unbilled_invoice[unbilled_invoice >= 0]
    if cfg.visit_fee_rate > 0 and cfg.unquoted_fee_rate > 0 and len(unbilled):
        # boundary events: a few first repairs billed no fee get one, quoted in the case's first contact the
        # day before, on and the day after the first day of the seed's quote window before the invoice date;
        # a quote on the window's first day still counts, so only the earlier one leaves the fee unquoted
        at, invoice, value, shift = _fee_quote_boundary(
            chunk,
            cust,
            opened,
            unbilled,
            unbilled_invoice,
            quote_days=quote_days,
            earliest=np.maximum(period.t0 + DAY, chunk.signup[cust[unbilled]] + 14 * DAY),
        )
        for case_times in (opened, due, repair_start, repair_arrived, repair_done):
            case_times[at] += shift
        poor = value > quote_days
        fee[at] = True
        fee_j[at] = invoice
        fee_t[at] = chunk.inv_t[cust[at], invoice]
        unquoted[at] = poor  # quoted, but too long before the invoice to count; planted with the others
        fee_boundary[at] = True
        fee_boundary_events = (at, value, poor)
    # second contact: a planted repeat 1 day up to 1 day short of the seed's repeat-contact window, or a
    # normal one more than a day after that window
    repeat_days = int(chunk.thresholds["repeat_contact"])
    repeat_contact = rng.random(count) < cfg.repeat_contact_rate
    second = repeat_contact | (rng.random(count) < cfg.normal_second_contact_rate)
    second_contact_at = np.where(
        repeat_contact,
        opened + DAY + rng.integers(0, (repeat_days - 2) * DAY, count),
        opened + (repeat_days + 1) * DAY + rng.integers(0, 12 * DAY, count),
    )
    single_contact = np.flatnonzero(~second & ~promise & ~repair & ~long_wait & ~transfers)
    if cfg.repeat_contact_rate > 0 and len(single_contact) >= len(BOUNDARY_OFFSETS):
        # a few single-contact cases given a second contact a second before, at and after the seed's
        # repeat-contact window; one up to and including it is a repeat contact
        at = spread(single_contact, len(BOUNDARY_OFFSETS))
        threshold = repeat_days * DAY
        value = threshold + BOUNDARY_OFFSETS
        poor = value <= threshold
        second[at] = True
        second_contact_at[at] = opened[at] + value
        repeat_contact[at[poor]] = True  # planted below with the rule's other events
        timed_boundary.append(
            ("repeat_contact", "seconds after the case's previous contact", at, value, threshold, poor)
        )
    finish = np.maximum.reduce(
        [opened, np.where(second, second_contact_at, opened), np.where(repair, repair_done, opened)]
    )
    ok = finish < period.te  # a chain that cannot finish inside the period is not simulated at all
    finish = np.where(ok, finish, period.te + DAY)
    # a quote only counts within the seed's days before the invoice: no fee when the invoice is later;
    # and the fee is billed only after the case's chain is over, so the quote is always exported with it
    quote_window = (quote_days - 1) * DAY
    fee &= (fee_j >= 0) & (unquoted | fee_boundary | (fee_t - opened <= quote_window)) & (finish < fee_t)
    quoted = fee & (~unquoted | fee_boundary)
    unquoted &= fee

    first_contact_ids = ids("CT", case_numbers * 3, CONTACT_WIDTH)
    second_cases = np.flatnonzero(second)
    second_contact_ids = ids("CT", case_numbers[second_cases] * 3 + 1, CONTACT_WIDTH)
    promise_code = np.where(promise, "TECH_NEXT_DAY", np.where(quoted, "FEE_QUOTED", None))
    callback = (promise_code == None) & (rng.random(count) < 0.05)  # noqa: E711
    promise_code = np.where(callback, "CALLBACK", promise_code)
    # planted long waits and transfer counts lie beyond the seed's threshold, ordinary ones well below it
    wait_limit, transfer_limit = int(chunk.thresholds["long_wait"]), int(chunk.thresholds["many_transfers"])
    first_wait = np.where(
        long_wait,
        rng.integers(wait_limit + 100, wait_limit + 2701, count),
        rng.integers(10, min(590, wait_limit), count),
    )
    first_transfers = np.where(
        transfers,
        rng.integers(transfer_limit, transfer_limit + 3, count),
        rng.integers(0, transfer_limit, count),
    )
    # boundary events: a few ordinary first contacts whose wait / transfer count is set at and next to the
    # seed's threshold; the rule's comparison (wait >, transfers >=) decides which are poor
    ordinary = np.flatnonzero(ok & ~long_wait & ~transfers & ~broken)
    boundary = []
    if len(ordinary) >= 2 * len(BOUNDARY_OFFSETS):  # spread over the chunk's cases
        picked = spread(ordinary, 2 * len(BOUNDARY_OFFSETS))
        for rule, rate, unit, values, flags, at_threshold_is_poor, at in [
            (
                "long_wait",
                cfg.long_wait_rate,
                "seconds",
                first_wait,
                long_wait,
                False,
                picked[: len(BOUNDARY_OFFSETS)],
            ),
            (
                "many_transfers",
                cfg.many_transfers_rate,
                "transfers",
                first_transfers,
                transfers,
                True,
                picked[len(BOUNDARY_OFFSETS) :],
            ),
        ]:
            if rate == 0:  # a company that shows no such event gets no boundary events of it either
                continue
            threshold = chunk.thresholds[rule]
            value = int(threshold) + BOUNDARY_OFFSETS
            poor = (value >= threshold) if at_threshold_is_poor else (value > threshold)
            values[at] = value
            flags[at[poor]] = True  # planted below with the rule's other events
            boundary.append((rule, unit, at, value, threshold, poor))
    all_c = np.concatenate([np.arange(count), second_cases])
    sink.emit(
        "crm__contacts",
        np.concatenate([cust, cust[second_cases]]),
        finish[all_c],
        np.concatenate([opened, second_contact_at[second_cases]]),
        contact_id=pa.concat_arrays([first_contact_ids, second_contact_ids]),
        case_id=case_id.take(all_c),
        customer_id=chunk.cid.take(cust[all_c]),
        channel=pick(CHANNELS, channel_index[all_c]),
        contact_at=np.concatenate([opened, second_contact_at[second_cases]]),
        wait_seconds=np.concatenate([first_wait, rng.integers(10, min(590, wait_limit), len(second_cases))]),
        handle_seconds=rng.integers(120, 1800, len(all_c)),
        transfer_count=np.concatenate([first_transfers, rng.integers(0, transfer_limit, len(second_cases))]),
        agent_id=ids("AG", rng.integers(1, 900, len(all_c)), 4),
        promise_code=np.concatenate([promise_code, np.full(len(second_cases), None, dtype=object)]),
        promise_due_at=np.concatenate(
            [np.where(promise, due, np.where(callback, opened + DAY, NULL)), np.full(len(second_cases), NULL)]
        ),
        quoted_amount_minor=np.concatenate(
            [np.where(quoted, cfg.visit_fee_minor, NULL), np.full(len(second_cases), NULL)]
        ),
    )
    # case versions: opened, then closed
    closed = finish + rng.integers(2 * HOUR, 3 * DAY, count)
    resolution = pick(["RESOLVED", "UNRESOLVED", "CREDITED"], rng.choice(3, count, p=[0.8, 0.15, 0.05]))
    _emit_cases(
        sink,
        chunk,
        customers=cust,
        case_id=case_id,
        case_type=pick(CASE_TYPES, case_type_index),
        channel=pick(CHANNELS, channel_index),
        opened_at=opened,
        closed_at=closed,
        resolution=resolution,
        finish=finish,
    )
    repaired = np.flatnonzero(repair)
    _emit_appts(
        sink,
        chunk,
        customers=cust[repaired],
        appointment_id=appt_ids(chunk, cust[repaired], 2 + case_index[repaired]),
        appointment_type="REPAIR",
        previous_appointment_id=None,
        booked_at=opened[repaired] + HOUR,
        window_start_at=repair_start[repaired],
        arrived_at=repair_arrived[repaired],
        completed_at=repair_done[repaired],
        status="COMPLETED",
        note_codes=np.full(len(repaired), "OK", dtype=object),
        finish=finish[repaired],
        rng=rng,
        case_id=case_id.take(repaired),
    )

    # poor experiences found in the case's opening
    for rule, happened, table, evidence in [
        ("service_fault", fault, "crm__cases", case_id),
        ("long_wait", long_wait, "crm__contacts", first_contact_ids),
        ("many_transfers", transfers, "crm__contacts", first_contact_ids),
    ]:
        sink.plant(
            rule,
            customers=cust[happened],
            occurred_at=opened[happened],
            table=table,
            evidence=evidence.filter(happened),
            finish=finish[happened],
            written=opened[happened],
        )
    for rule, unit, at, value, threshold, poor in timed_boundary + boundary:
        second_contact = rule == "repeat_contact"
        sink.plant_boundary(
            rule,
            cust=cust[at],
            table="crm__contacts",
            evidence=ids("CT", case_numbers[at] * 3 + 1, CONTACT_WIDTH)
            if second_contact
            else first_contact_ids.take(at),
            value=value,
            threshold=threshold,
            unit=unit,
            poor=poor,
            finish=finish[at],
            written=second_contact_at[at] if second_contact else opened[at],
        )
    repeat_second = repeat_contact[second_cases]
    sink.plant(
        "repeat_contact",
        customers=cust[second_cases][repeat_second],
        occurred_at=second_contact_at[second_cases][repeat_second],
        table="crm__contacts",
        evidence=second_contact_ids.filter(repeat_second),
        finish=finish[second_cases][repeat_second],
        written=second_contact_at[second_cases][repeat_second],
    )
    sink.plant(
        "broken_promise",
        customers=cust[broken],
        occurred_at=due[broken],
        table="crm__contacts",
        evidence=first_contact_ids.filter(broken),
        finish=finish[broken],
        written=opened[broken],
    )
    fee_line = line_ids(chunk.inv_num[cust[fee], fee_j[fee]], FEE_LINE)
    unquoted_billed = unquoted[fee]
    sink.plant(
        "unquoted_fee",
        customers=cust[fee][unquoted_billed],
        occurred_at=fee_t[fee][unquoted_billed],
        table="billing__invoice_lines",
        evidence=fee_line.filter(unquoted_billed),
        finish=np.maximum(fee_t[fee][unquoted_billed], finish[fee][unquoted_billed]),
        written=fee_t[fee][unquoted_billed],
    )
    if fee_boundary_events is not None:
        at, value, poor = fee_boundary_events
        billed = fee[at]
        at, value, poor = at[billed], value[billed], poor[billed]
        sink.plant_boundary(
            "unquoted_fee",
            cust=cust[at],
            table="billing__invoice_lines",
            evidence=line_ids(chunk.inv_num[cust[at], fee_j[at]], FEE_LINE),
            value=value,
            threshold=quote_days,
            unit="days from the quote to the invoice date",
            poor=poor,
            finish=np.maximum(fee_t[at], finish[at]),
            written=fee_t[at],
        )

    poor1 = long_wait | transfers | broken
    visits = SimpleNamespace(
        cust=cust[repaired],
        aid=[appt_ids(chunk, cust[repaired], 2 + case_index[repaired])],
        at=repair_done[repaired],
        finish=finish[repaired],
        poor=broken[repaired],
    )
    contacts = SimpleNamespace(
        cust=np.concatenate([cust, cust[second_cases]]),
        cid=[first_contact_ids, second_contact_ids],
        at=np.concatenate([opened, second_contact_at[second_cases]]),
        finish=finish[all_c],
        poor=np.concatenate([poor1, repeat_second]),
    )
    fees = SimpleNamespace(cust=cust[fee], j=fee_j[fee], finish=finish[fee])
    return SimpleNamespace(visits=visits, contacts=contacts, fees=fees)


def _emit_cases(
    sink: Sink, chunk, *, customers, case_id, case_type, channel, opened_at, closed_at, resolution, finish
):
    """A case is exported when opened and again when closed (if it closes inside the period)."""
    count = len(customers)
    sink.emit(
        "crm__cases",
        customers,
        finish,
        opened_at,
        case_id=case_id,
        customer_id=chunk.cid.take(customers),
        case_type=case_type,
        channel=channel,
        opened_at=opened_at,
        closed_at=np.full(count, NULL),
        resolution_code=None,
        updated_at=opened_at,
    )
    sink.emit(
        "crm__cases",
        customers,
        finish,
        closed_at,
        case_id=case_id,
        customer_id=chunk.cid.take(customers),
        case_type=case_type,
        channel=channel,
        opened_at=opened_at,
        closed_at=closed_at,
        resolution_code=resolution,
        updated_at=closed_at,
    )


def complaints(rng, chunk, period: Period, cfg: SimulationConfig, sink: Sink) -> SimpleNamespace:
    """Some poor experiences make the customer complain: a COMPLAINT case, well handled or not."""
    poor_customers, poor_at, poor_finish, _ = sink.poor_times()
    complained = rng.random(len(poor_customers)) < cfg.complaint_rate
    cust, experienced_at, chain_finish = (
        poor_customers[complained],
        poor_at[complained],
        poor_finish[complained],
    )
    order = np.lexsort((experienced_at, cust))
    cust, experienced_at, chain_finish = cust[order], experienced_at[order], chain_finish[order]
    # rank of each complaint within its customer, for a stable case number
    start = np.r_[0, np.flatnonzero(np.diff(cust)) + 1]
    rank = np.arange(len(cust)) - np.repeat(start, np.diff(np.r_[start, len(cust)]))
    keep = rank < 20
    cust, experienced_at, chain_finish, rank = (
        cust[keep],
        experienced_at[keep],
        chain_finish[keep],
        rank[keep],
    )
    count = len(cust)
    opened = experienced_at + rng.integers(1 * HOUR, 3 * DAY, count)
    well = rng.random(count) < cfg.complaint_handled_well_rate
    late_close = rng.random(count) < 0.5
    closed = np.where(
        well,
        opened + rng.integers(12 * HOUR, int(6.5 * DAY), count),
        opened
        + np.where(
            late_close, rng.integers(8 * DAY, 20 * DAY, count), rng.integers(2 * DAY, 10 * DAY, count)
        ),
    )
    resolution = np.where(
        well,
        pick(["RESOLVED", "CREDITED"], (rng.random(count) < 0.3).astype(int)),
        np.where(late_close, "RESOLVED", "UNRESOLVED"),
    )
    finish = np.maximum(chain_finish, opened)
    finish = np.where(finish < period.te, finish, period.te + DAY)
    case_numbers = case_num(chunk, cust, 20 + rank)
    case_id = ids("K", case_numbers, CASE_WIDTH)
    channel = pick(CHANNELS, rng.choice(4, count, p=[0.4, 0.25, 0.15, 0.2]))
    _emit_cases(
        sink,
        chunk,
        customers=cust,
        case_id=case_id,
        case_type="COMPLAINT",
        channel=channel,
        opened_at=opened,
        closed_at=closed,
        resolution=resolution,
        finish=finish,
    )
    sink.emit(
        "crm__contacts",
        cust,
        finish,
        opened,
        contact_id=ids("CT", case_numbers * 3, CONTACT_WIDTH),
        case_id=case_id,
        customer_id=chunk.cid.take(cust),
        channel=channel,
        contact_at=opened,
        wait_seconds=rng.integers(10, min(590, int(chunk.thresholds["long_wait"])), count),
        handle_seconds=rng.integers(120, 1800, count),
        transfer_count=rng.integers(0, int(chunk.thresholds["many_transfers"]), count),
        agent_id=ids("AG", rng.integers(1, 900, count), 4),
        promise_code=None,
        promise_due_at=np.full(count, NULL),
        quoted_amount_minor=np.full(count, NULL),
    )
    credited = resolution == "CREDITED"
    credited_rows = np.flatnonzero(credited)
    sink.emit(
        "billing__adjustments",
        cust[credited_rows],
        finish[credited_rows],
        closed[credited_rows],
        adjustment_id=ids("ADJ", case_numbers[credited_rows], CASE_WIDTH),
        account_number=chunk.account.take(cust[credited_rows]),
        invoice_id=None,
        created_at=closed[credited_rows],
        amount_minor=-rng.integers(500, 3000, len(credited_rows)),
        currency="EUR",
        reason_code="COMPLAINT_CREDIT",
    )
    handled = well & (closed < period.te)
    return SimpleNamespace(
        cust=cust,
        case_id=case_id,
        opened=opened,
        closed=closed,
        well=well,
        handled_written=handled,
        finish=finish,
    )
