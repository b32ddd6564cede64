"""Every knob of the simulated company, with defaults that make the seed articles' claims plausible."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimulationConfig:
    """Rates and effect sizes of the simulation. Probabilities are per thing named, times in days."""

    # --- sales
    campaign_count: int = 36  # spread over the period; a few dozen
    campaign_share: float = 0.85  # customers acquired by a campaign (the rest are organic)
    promised_plan_take_rate: float = 0.7  # campaign customers who take the advertised plan
    promo_take_rate: float = 0.6  # campaign customers on a promo campaign who get the promo code
    tv_rate: float = 0.35
    mobile_rate: float = 0.3
    contract_mix: tuple[float, float, float] = (0.3, 0.4, 0.3)  # MONTHLY, 12M, 24M
    customer_change_rate: float = 0.3  # customers re-exported once with a changed region or opt-in
    # --- planted marketing / installation poor experiences
    offer_not_honoured_rate: float = 0.03  # of subscriptions on the promised plan
    late_arrival_rate: float = 0.05  # of installs
    no_show_rate: float = 0.03
    missing_tool_rate: float = 0.03
    property_damage_rate: float = 0.02
    # --- care
    cases_per_year: float = 1.2
    service_fault_share: float = 0.35
    long_wait_rate: float = 0.04  # of first contacts
    many_transfers_rate: float = 0.04
    repeat_contact_rate: float = 0.05  # of cases
    normal_second_contact_rate: float = 0.2
    tech_promise_rate: float = 0.3  # of service faults
    broken_promise_rate: float = 0.3  # of tech promises
    repair_rate: float = 0.4  # of service faults without a promise
    visit_fee_rate: float = 0.35  # of a customer's first repair
    unquoted_fee_rate: float = 0.4  # of visit fees
    visit_fee_minor: int = 4500
    # --- billing
    promo_months: int = 3
    promo_not_applied_rate: float = 0.1  # of promo subscriptions
    overcharge_rate: float = 0.03  # of customers, once
    company_payment_failure_rate: float = 0.03  # of customers, once
    customer_payment_failure_rate: float = 0.015  # of invoices
    bad_payer_rate: float = 0.03  # customers who stop paying and are cancelled INVOL
    goodwill_rate: float = 0.02  # of customers, once
    # --- survey
    csat_contact_invite_rate: float = 0.3
    csat_visit_invite_rate: float = 0.3
    nps_invite_rate: float = 0.5  # customers invited once to the relationship NPS
    response_rate: float = 0.45
    low_score_after_poor: float = 0.5
    low_score_baseline: float = 0.03
    unmatchable_response_rate: float = 0.02  # extra responses from e-mails no customer has
    # --- complaints and defection
    complaint_rate: float = 0.15  # per poor experience
    complaint_handled_well_rate: float = 0.6
    base_weekly_hazard: float = 0.0015
    hazard_one_poor: float = 0.13  # weekly, with one poor experience in the last 13 weeks
    hazard_two_plus_poor: float = 0.4  # weekly, with two or more
    stickiness_damping: float = 0.6  # hazard multiplier per stickiness point (contract, bundle, tenure)
    handled_complaint_damping: float = 0.35  # a well-handled complaint in the last 13 weeks
    unhandled_complaint_boost: float = 1.4
    partial_cancel_rate: float = 0.03  # of bundles: one product cancelled, customer stays
    downgrade_rate: float = 0.04  # of customers with a downgradable broadband plan
    winback_rate: float = 0.15  # of voluntary defectors
    winback_weekly_hazard: float = 0.01  # won-back customers are fragile
    # --- untidiness (all zero with --no-untidiness)
    untidy: bool = True
    duplicate_rate: float = 0.01  # of rows, per table
    late_row_rate: float = 0.01
    mixed_offset_rate: float = 0.15  # of rows: timestamps written with a non-UTC offset
    email_format_rate: float = 0.3  # of e-mails: different case and surrounding spaces
    unknown_code_rate: float = 0.005
    orphan_rate: float = 0.002
    malformed_rate: float = 0.001
    out_of_range_score_rate: float = 0.01  # extra responses, relative to real ones
    total_mismatch_rate: float = 0.003  # of invoices
