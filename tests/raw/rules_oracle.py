"""An independent, pandas-only reading of the exports that applies the poor-experience rules.

Used by the generator tests to check that the rules fire exactly on the planted events of the answer key.
It reads the files the way a careful loader would: skips lines with the wrong field count, sets aside
unparseable values, drops exact duplicates, keeps the latest version of versioned rows, and ignores rows that
point at nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]


def read_table(exports: Path, table: str) -> pd.DataFrame:
    """Every export day's file of a table, as text, with the old column name mapped to the new one."""
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], on_bad_lines="skip")
        for p in sorted(exports.glob(f"*/{table}.csv"))
    ]
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    if "queue_seconds" in df.columns:
        df["wait_seconds"] = df["wait_seconds"].fillna(df.pop("queue_seconds"))
    return df.drop_duplicates()


def ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601")


def num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce")


def latest(df: pd.DataFrame, key: str) -> pd.DataFrame:
    df = df.assign(_u=ts(df["updated_at"])).dropna(subset=["_u"])
    return df.sort_values("_u").drop_duplicates(key, keep="last")


def detect(exports: Path) -> pd.DataFrame:
    """(customer_id, kind, evidence_table, evidence_id) for every rule hit."""
    rules = pd.read_csv(REPO / "seeds" / "poor_experience_rules.csv").set_index("rule_id")
    th = rules["threshold"]
    customers = read_table(exports, "crm__customers")
    customers = latest(customers[ts(customers["signed_up_at"]).notna()], "customer_id")
    known = set(customers["customer_id"])
    hits = []

    def add(df, rule, table, id_col):
        hits.append(
            pd.DataFrame(
                {
                    "customer_id": df["customer_id"].values,
                    "rule_id": rule,
                    "evidence_table": table,
                    "evidence_id": df[id_col].values,
                }
            )
        )

    a = read_table(exports, "crm__appointments")
    a = a[a["customer_id"].isin(known)].drop_duplicates("appointment_id")
    for c in ("window_start_at", "window_end_at", "arrived_at", "completed_at"):
        a[c] = ts(a[c])
    add(
        a[a["arrived_at"] > a["window_end_at"] + pd.Timedelta(minutes=th["late_arrival"])],
        "late_arrival",
        "crm__appointments",
        "appointment_id",
    )
    add(a[a["status"] == "NO_SHOW"], "no_show", "crm__appointments", "appointment_id")
    notes = a["tech_note_codes"].fillna("")
    add(a[notes.str.contains("MISSING_TOOL")], "missing_tool", "crm__appointments", "appointment_id")
    add(a[notes.str.contains("PROPERTY_DAMAGE")], "property_damage", "crm__appointments", "appointment_id")
    prev = a.merge(a, left_on="previous_appointment_id", right_on="appointment_id", suffixes=("", "_p"))
    prev = prev[
        (prev["status_p"] == "COMPLETED")
        & (prev["window_start_at"] <= prev["completed_at_p"] + pd.Timedelta(days=th["repeat_visit"]))
    ]
    add(prev, "repeat_visit", "crm__appointments", "appointment_id")

    k = read_table(exports, "crm__contacts")
    k = k[k["customer_id"].isin(known)].drop_duplicates("contact_id")
    k["contact_at"] = ts(k["contact_at"])
    k["wait"] = num(k["wait_seconds"])
    # a row whose number does not parse is set aside, as the loader does
    k = k[k["wait_seconds"].isna() | k["wait"].notna()]
    k["tr"] = num(k["transfer_count"])
    k = k.dropna(subset=["contact_at"]).sort_values(["case_id", "contact_at"])
    gap = k["contact_at"] - k.groupby("case_id")["contact_at"].shift()
    add(k[gap <= pd.Timedelta(days=th["repeat_contact"])], "repeat_contact", "crm__contacts", "contact_id")
    add(k[k["wait"] > th["long_wait"]], "long_wait", "crm__contacts", "contact_id")
    add(k[k["tr"] >= th["many_transfers"]], "many_transfers", "crm__contacts", "contact_id")
    promised = k[k["promise_code"] == "TECH_NEXT_DAY"].copy()
    promised["due"] = ts(promised["promise_due_at"]) + pd.Timedelta(hours=th["broken_promise"])
    m = promised.merge(a[["customer_id", "window_start_at"]], on="customer_id", how="left")
    m["kept"] = (m["window_start_at"] >= m["contact_at"]) & (m["window_start_at"] <= m["due"])
    kept = m.groupby("contact_id")["kept"].any()
    add(
        promised[~promised["contact_id"].map(kept).astype(bool)],
        "broken_promise",
        "crm__contacts",  # noqa: E712
        "contact_id",
    )

    cases = latest(read_table(exports, "crm__cases"), "case_id")
    cases = cases[cases["customer_id"].isin(known)]
    add(cases[cases["case_type"] == "SERVICE_FAULT"], "service_fault", "crm__cases", "case_id")

    subs_all = read_table(exports, "crm__subscriptions")
    subs_all = subs_all[subs_all["customer_id"].isin(known)].copy()
    subs_all["_u"] = ts(subs_all["updated_at"])
    subs_all["price"] = num(subs_all["monthly_price_minor"])
    camp = latest(read_table(exports, "crm__campaigns"), "campaign_id")
    cust_camp = customers[["customer_id", "campaign_id"]].merge(camp, on="campaign_id")
    sv = subs_all.merge(cust_camp, on="customer_id")
    bad = sv[
        (sv["plan_code"] == sv["promised_plan_code"])
        & (sv["price"] > num(sv["promised_monthly_price_minor"]))
    ].drop_duplicates("subscription_id")
    add(bad, "offer_not_honoured", "crm__subscriptions", "subscription_id")

    acc = latest(read_table(exports, "billing__accounts"), "account_number")
    acc = acc[acc["crm_customer_id"].isin(known)].rename(columns={"crm_customer_id": "customer_id"})
    inv = read_table(exports, "billing__invoices").drop_duplicates("invoice_id")
    inv["date"] = pd.to_datetime(inv["invoice_date"], errors="coerce", utc=True)
    inv = inv.dropna(subset=["date"]).merge(acc[["account_number", "customer_id"]], on="account_number")
    lines = read_table(exports, "billing__invoice_lines").drop_duplicates("invoice_line_id")
    lines["amount"] = num(lines["amount_minor"])
    lines = lines.merge(inv[["invoice_id", "customer_id", "date"]], on="invoice_id")
    rec = lines[lines["line_type"] == "RECURRING"]
    versions = subs_all.dropna(subset=["_u"]).sort_values("_u")[["subscription_id", "_u", "price"]]
    rec = rec.sort_values("date")
    rec = pd.merge_asof(rec, versions.rename(columns={"_u": "date"}), on="date", by="subscription_id")
    add(
        rec[rec["amount"] > rec["price"] * (1 + th["overcharge"] / 100)],
        "overcharge",
        "billing__invoice_lines",
        "invoice_line_id",
    )
    fees = lines[lines["fee_code"] == "VISIT_FEE"]
    quotes = k[k["promise_code"] == "FEE_QUOTED"][["customer_id", "contact_at"]]
    f = fees.merge(quotes, on="customer_id", how="left")
    f["q"] = (f["contact_at"] <= f["date"]) & (
        f["contact_at"] > f["date"] - pd.Timedelta(days=th["unquoted_fee"])
    )
    quoted = f.groupby("invoice_line_id")["q"].any()
    add(
        fees[~fees["invoice_line_id"].map(quoted).astype(bool)],
        "unquoted_fee",
        "billing__invoice_lines",  # noqa: E712
        "invoice_line_id",
    )
    promo_subs = subs_all.dropna(subset=["promo_code"]).drop_duplicates("subscription_id")
    first_inv = rec.sort_values("date").drop_duplicates("subscription_id")[["subscription_id", "invoice_id"]]
    p = promo_subs.merge(first_inv, on="subscription_id")
    promo_lines = lines[lines["line_type"] == "PROMO"][["invoice_id", "promo_code"]].assign(has=True)
    p = p.merge(promo_lines, on=["invoice_id", "promo_code"], how="left")
    add(p[p["has"].isna()], "promo_not_applied", "billing__invoices", "invoice_id")
    codes = pd.read_csv(REPO / "seeds" / "payment_failure_codes.csv")
    company = set(codes.loc[codes["caused_by"] == "company", "failure_code"])
    pay = read_table(exports, "billing__payments").drop_duplicates("payment_id")
    pay = pay[pay["invoice_id"].isin(set(inv["invoice_id"])) & ts(pay["attempted_at"]).notna()]
    pay = pay.merge(acc[["account_number", "customer_id"]], on="account_number")
    add(
        pay[(pay["status"] == "FAILED") & pay["failure_code"].isin(company)],
        "company_payment_failure",
        "billing__payments",
        "payment_id",
    )

    surveys = read_table(exports, "survey__surveys")
    invs = read_table(exports, "survey__invitations").drop_duplicates("invitation_id")
    resp = read_table(exports, "survey__responses").drop_duplicates("response_id")
    # the invitation names the survey; a response without one may name it itself (optional survey_id)
    own_survey = resp.get("survey_id")
    resp = resp.drop(columns=["survey_id"], errors="ignore").merge(
        invs[["invitation_id", "survey_id", "email"]].rename(columns={"email": "inv_email"}),
        on="invitation_id",
        how="left" if own_survey is not None else "inner",
    )
    if own_survey is not None:
        resp["survey_id"] = resp["survey_id"].fillna(own_survey.reset_index(drop=True))
    resp = resp.dropna(subset=["survey_id"]).merge(surveys, on="survey_id")
    resp["score_n"] = num(resp["score"])
    resp = resp[(resp["score_n"] >= num(resp["scale_min"])) & (resp["score_n"] <= num(resp["scale_max"]))]
    resp = resp[ts(resp["responded_at"]).notna()]
    canon = customers.assign(e=customers["email"].str.strip().str.lower())[["e", "customer_id"]]
    resp["e"] = resp["email"].fillna(resp["inv_email"]).str.strip().str.lower()
    resp = resp.merge(canon, on="e")
    for rule, stype in [
        ("low_csat_contact", "CSAT_CONTACT"),
        ("low_csat_visit", "CSAT_VISIT"),
        ("nps_detractor", "NPS"),
    ]:
        add(
            resp[(resp["survey_type"] == stype) & (resp["score_n"] <= th[rule])],
            rule,
            "survey__responses",
            "response_id",
        )
    out = pd.concat(hits, ignore_index=True)
    out["kind"] = out["rule_id"].map(rules["kind"])
    out["silo"] = out["rule_id"].map(rules["silo"])
    return out.drop_duplicates()
