"""Staging and identity checks that dbt tests cannot express: raw -> staging reconciliation across tables,
identity matching that keeps and counts every unmatched row, and the shape of staged values.

Runs dbt (seeds + staging + identity + journey models only) on a copy of the conftest small company, so the
checks do not depend on the marts being buildable.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from support import REPO_ROOT, run_dbt

pytestmark = pytest.mark.slow

MY_MODELS = [
    "path:models/staging",
    "path:models/intermediate/identity",
    # with every model they read (int_touchpoints stamps its rows with int_warehouse_as_of's watermark)
    "+path:models/intermediate/journey",
]

SURVEY_MATCH = "intermediate.int_survey_responses_matched_to_customers"
ACCOUNT_MATCH = "intermediate.int_billing_accounts_matched_to_customers"
SUMMARY = "intermediate.int_identity_match_summary"

# raw table -> staging model holding one row per key
NON_VERSIONED = {
    "crm__contacts": ("stg_crm__contacts", "contact_id"),
    "crm__appointments": ("stg_crm__appointments", "appointment_id"),
    "billing__invoices": ("stg_billing__invoices", "invoice_id"),
    "billing__invoice_lines": ("stg_billing__invoice_lines", "invoice_line_id"),
    "billing__payments": ("stg_billing__payments", "payment_id"),
    "billing__adjustments": ("stg_billing__adjustments", "adjustment_id"),
    "survey__surveys": ("stg_survey__surveys", "survey_id"),
    "survey__invitations": ("stg_survey__invitations", "invitation_id"),
    "survey__responses": ("stg_survey__responses", "response_id"),
}
VERSIONED = {
    "crm__customers": ("stg_crm__customers", "customer_id"),
    "crm__subscriptions": ("stg_crm__subscriptions", "subscription_id"),
    "crm__campaigns": ("stg_crm__campaigns", "campaign_id"),
    "crm__cases": ("stg_crm__cases", "case_id"),
    "network__service_events": ("stg_network__service_events", "event_id"),
    "billing__accounts": ("stg_billing__accounts", "account_number"),
}


@pytest.fixture(scope="module")
def staged(loaded_warehouse, tmp_path_factory) -> duckdb.DuckDBPyConnection:
    """The small company with only this layer built, opened read-only."""
    work = tmp_path_factory.mktemp("staging_dbt")
    path = work / "warehouse.duckdb"
    shutil.copy(loaded_warehouse, path)
    run_dbt(["seed"], path, work)
    run_dbt(["run", "--select", *MY_MODELS], path, work)
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def _scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_every_raw_table_has_a_staging_model():
    contract = yaml.safe_load((REPO_ROOT / "raw" / "contract.yml").read_text())
    assert set(contract["tables"]) == set(NON_VERSIONED) | set(VERSIONED)
    for table in contract["tables"]:
        system, entity = table.split("__", 1)
        assert (Path(REPO_ROOT) / "models" / "staging" / system / f"stg_{table}.sql").exists(), table


@pytest.mark.parametrize("raw_table", sorted(NON_VERSIONED))
def test_staging_keeps_exactly_one_row_per_delivered_key(staged, raw_table):
    model, key = NON_VERSIONED[raw_table]
    raw_keys = _scalar(staged, f"select count(distinct {key}) from raw.{raw_table}")
    staged_rows = _scalar(staged, f"select count(*) from staging.{model}")
    staged_keys = _scalar(staged, f"select count(distinct {key}) from staging.{model}")
    assert raw_keys > 0
    assert staged_rows == staged_keys == raw_keys


@pytest.mark.parametrize("raw_table", sorted(VERSIONED))
def test_versioned_staging_keeps_the_latest_version_per_key(staged, raw_table):
    model, key = VERSIONED[raw_table]
    assert _scalar(staged, f"select count(*) from staging.{model}") == _scalar(
        staged, f"select count(distinct {key}) from raw.{raw_table}"
    )
    # The staged row is the latest version the raw table holds for its key (compared as instants).
    stale = _scalar(
        staged,
        f"""
        select count(*)
        from staging.{model} as s
        inner join (
            select {key}, max(timezone('UTC', updated_at)) as latest from raw.{raw_table} group by {key}
        ) as r using ({key})
        where s.updated_at != r.latest
        """,
    )
    assert stale == 0


def test_version_history_keeps_every_distinct_version(staged):
    for raw_table, model, key in [
        ("crm__customers", "int_customer_versions", "customer_id"),
        ("crm__subscriptions", "int_subscription_versions", "subscription_id"),
    ]:
        distinct_versions = _scalar(
            staged, f"select count(*) from (select distinct {key}, updated_at from raw.{raw_table})"
        )
        assert _scalar(staged, f"select count(*) from intermediate.{model}") == distinct_versions
        # Exactly one current version per key, and validity intervals chain without gaps.
        assert (
            _scalar(
                staged, f"select count(*) - count(distinct {key}) from intermediate.{model} where is_current"
            )
            == 0
        )
        gaps = _scalar(
            staged,
            f"""
            select count(*) from (
                select valid_to, lead(valid_from) over (partition by {key} order by valid_from) as next_from
                from intermediate.{model}
            ) where valid_to is distinct from next_from
            """,
        )
        assert gaps == 0


def test_raw_duplicates_exist_and_are_collapsed(staged):
    """The generator re-delivers rows; without this the de-duplication tests above would prove nothing."""
    duplicated = _scalar(
        staged, "select count(*) - count(distinct contact_id) from raw.crm__contacts"
    ) + _scalar(staged, "select count(*) - count(distinct invoice_line_id) from raw.billing__invoice_lines")
    assert duplicated > 0


def test_emails_are_normalised_everywhere(staged):
    for model, column in [
        ("staging.stg_crm__customers", "email"),
        ("staging.stg_billing__accounts", "billing_email"),
        ("staging.stg_survey__invitations", "email"),
        ("staging.stg_survey__responses", "email"),
    ]:
        bad = _scalar(staged, f"select count(*) from {model} where {column} != lower(trim({column}))")
        assert bad == 0, model
    # The raw side really is untidy, so normalisation is doing work.
    assert _scalar(staged, "select count(*) from raw.survey__responses where email != lower(trim(email))") > 0


def test_staging_timestamps_are_naive_utc(staged):
    tz_columns = staged.execute(
        """
        select table_name, column_name from information_schema.columns
        where table_schema in ('staging', 'intermediate') and data_type like 'TIMESTAMP WITH TIME ZONE%'
        """
    ).fetchall()
    assert tz_columns == []


def test_unmatched_survey_responses_are_kept_and_counted(staged):
    responses = _scalar(staged, "select count(*) from staging.stg_survey__responses")
    assert _scalar(staged, f"select count(*) from {SURVEY_MATCH}") == responses
    by_status = dict(
        staged.execute(
            f"""
            select match_status, sum("rows") from {SUMMARY}
            where source = 'survey_responses' group by match_status
            """
        ).fetchall()
    )
    assert sum(by_status.values()) == responses
    unmatched = _scalar(
        staged,
        f"select count(*) from {SURVEY_MATCH} where customer_id is null",
    )
    assert by_status.get("unmatched", 0) == unmatched
    # Most respondents are customers: matching by e-mail must work despite case and spaces.
    assert by_status.get("matched", 0) > 0.9 * responses


def test_billing_accounts_all_kept_and_summary_reconciles(staged):
    accounts = _scalar(staged, "select count(*) from staging.stg_billing__accounts")
    summary = _scalar(
        staged,
        f"""select sum("rows") from {SUMMARY} where source = 'billing_accounts'""",
    )
    assert _scalar(staged, f"select count(*) from {ACCOUNT_MATCH}") == accounts
    assert summary == accounts
    # A link that points at nothing is never reported as a match by that link.
    wrong = _scalar(
        staged,
        f"""
        select count(*) from {ACCOUNT_MATCH}
        where has_dangling_crm_customer_id and match_method = 'crm_customer_id'
        """,
    )
    assert wrong == 0


def test_invoice_total_mismatches_are_flagged_not_dropped(staged):
    invoices = _scalar(staged, "select count(*) from staging.stg_billing__invoices")
    reconciled = _scalar(staged, "select count(*) from intermediate.int_invoices_reconciled_to_lines")
    flagged = _scalar(
        staged, "select count(*) from intermediate.int_invoices_reconciled_to_lines where is_total_mismatch"
    )
    assert reconciled == invoices
    assert 0 < flagged < invoices


def test_every_rule_of_the_seed_fires_on_the_small_company(staged):
    rules = {r for (r,) in staged.execute("select rule_id from reference.poor_experience_rules").fetchall()}
    sql = "select distinct rule_id from intermediate.int_poor_experiences"
    fired = {r for (r,) in staged.execute(sql).fetchall()}
    # Rules judging an optional feed the generated company does not deliver (its table lands empty);
    # tests/warehouse/test_network_events.py plants their hits.
    network_events = _scalar(staged, "select count(*) from raw.network__service_events")
    without_feed = {"long_outage"} if network_events == 0 else set()
    assert fired == rules - without_feed
