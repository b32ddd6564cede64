"""The intermediate GX suites on the real small company: its data passes, planted breaks block.

Each test copies the intermediate tables the suites read out of the small company's built warehouse
(tests/conftest.py: 1,500 customers x 240 days, seed 7) into its own DuckDB file, tampers with them in SQL the
way a real break would (a join that stops matching, a normalisation dropped, a silo lost, a timestamp shifted)
and runs the suite through the Dagster gate (orchestration/gx_gate.run_gate). A planted break must fail the
`gx_blocking` check naming exactly the expectations it breaks, each computed (not raised); the untouched copy
must pass with no warning. An expectation that raises, or a batch whose query no longer binds, is a blocking
failure too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from expectations.registry import suite_names
from expectations.runtime import GxRunner, SuiteOutcome
from orchestration.gx_gate import BLOCKING_CHECK, WARNING_CHECK, run_gate

pytestmark = pytest.mark.slow

BILLING = "int_billing_accounts_matched_to_customers"
INVOICES = "int_invoices_reconciled_to_lines"
SURVEY = "int_survey_responses_matched_to_customers"
TOUCHPOINTS = "int_touchpoints"
EPISODES = "int_customer_episodes"
SUITES = (BILLING, INVOICES, SURVEY, TOUCHPOINTS, EPISODES)
# What the suites read besides their own table.
ALSO_READ = (
    "intermediate.int_warehouse_as_of",
    "staging.stg_crm__customers",
    "intermediate.int_subscription_versions",
)


@pytest.fixture(scope="module")
def good_copy(built_warehouse, tmp_path_factory) -> Path:
    """A DuckDB file holding the small company's tables the intermediate suites read, untouched."""
    path = tmp_path_factory.mktemp("intermediate_suites") / "good.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"attach '{built_warehouse}' as built (read_only)")
        con.execute("create schema intermediate")
        con.execute("create schema staging")
        for relation in (*(f"intermediate.{name}" for name in SUITES), *ALSO_READ):
            con.execute(f"create table {relation} as select * from built.{relation}")
        con.execute("detach built")
    return path


@pytest.fixture
def con(good_copy, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(good_copy, path)
    connection = duckdb.connect(str(path))
    yield connection
    connection.close()


@pytest.fixture
def gate(con, tmp_path):
    """Run one intermediate suite through the Dagster gate; returns the outcome and the check results."""
    runner = GxRunner(tmp_path / "gx")

    def run(name: str) -> tuple[SuiteOutcome, dict[str, dg.AssetCheckResult]]:
        key = dg.AssetKey(["intermediate", name])
        outcome, results = run_gate(runner, con, "intermediate", name, f"intermediate.{name}", key)
        return outcome, {r.check_name: r for r in results}

    return run


def _blocked(gate, name: str) -> tuple[SuiteOutcome, list[str]]:
    """Run `name`, assert its blocking check failed on computed (not raised) outcomes; return the labels."""
    outcome, checks = gate(name)
    assert checks[BLOCKING_CHECK].passed is False
    assert checks[BLOCKING_CHECK].severity == dg.AssetCheckSeverity.ERROR
    failures = outcome.blocking_failures
    assert failures and not [f.label() for f in failures if f.raised], outcome.summary()
    labels = sorted(f.label() for f in failures)
    assert checks[BLOCKING_CHECK].metadata["failed_expectations"].value == [f.label() for f in failures]
    return outcome, labels


def _value(outcome: SuiteOutcome, label: str):
    """The aggregated value a one-row expectation judged (GX lists it as the unexpected value)."""
    [failure] = [f for f in outcome.blocking_failures if f.label() == label]
    [value] = failure.observed["partial_unexpected_list"]
    return value


def test_the_five_suites_are_registered():
    assert set(suite_names("intermediate")) == set(SUITES)


@pytest.mark.parametrize("name", SUITES)
def test_the_small_company_passes_without_warnings(gate, name):
    # The first run is judged by the absolute bounds and learns the company's figures; the second is judged
    # against what the first learned too.
    for _ in range(2):
        outcome, checks = gate(name)
        assert outcome.passed, outcome.summary()
        assert not outcome.warnings, outcome.summary()
        assert outcome.outcomes and all(o.success and not o.raised for o in outcome.outcomes)
        assert checks[BLOCKING_CHECK].passed and checks[WARNING_CHECK].passed
        assert outcome.row_count and outcome.row_count > 0


# --- identity: survey responses --------------------------------------------------------------------------


def test_survey_response_addresses_no_longer_normalised_block_even_when_the_invitation_rescues(con, gate):
    # Three in ten own addresses stop matching (the untidy share) and the invitation's address takes over:
    # every response is still matched, only the share matched by its own address collapses.
    con.execute("""
        update intermediate.int_survey_responses_matched_to_customers
        set match_method = 'invitation_email'
        where match_method = 'response_email' and hash(response_id) % 10 < 3
    """)
    outcome, labels = _blocked(gate, SURVEY)
    assert labels == [f"{SURVEY}.rows: expect_column_values_to_be_in_set(method_with_own_address)"]
    failure = outcome.blocking_failures[0]
    assert failure.observed["unexpected_percent"] > 15
    # The share is over the responses with an own address only: the others are the null values GX leaves out.
    (without_own_address,) = con.execute(
        f"select count(*) from intermediate.{SURVEY} where response_email is null"
    ).fetchone()
    assert without_own_address > 0
    assert failure.observed["missing_count"] == without_own_address


def test_survey_invitation_join_broken_blocks_on_survey_fallback_and_matches(con, gate):
    con.execute("""
        update intermediate.int_survey_responses_matched_to_customers
        set has_known_invitation = false, survey_id = null, survey_type = null, scale_min = null,
            scale_max = null, is_score_in_range = false, invitation_email = null,
            customer_id = case when match_method = 'response_email' then customer_id end,
            match_status = case when match_method = 'response_email' then 'matched' else 'unmatched' end,
            match_method = case when match_method = 'response_email' then match_method else 'none' end
    """)
    _, labels = _blocked(gate, SURVEY)
    prefix = SURVEY
    assert labels == [
        f"{prefix}.rows: expect_column_values_to_be_in_set(is_score_in_range)",
        f"{prefix}.rows: expect_column_values_to_be_in_set(match_status)",
        f"{prefix}.rows: expect_column_values_to_be_in_set(method_without_own_address)",
        f"{prefix}.rows: expect_column_values_to_not_be_null(survey_type)",
    ]


# --- identity: billing accounts --------------------------------------------------------------------------


def test_billing_link_join_broken_blocks_although_the_email_still_matches_everyone(con, gate):
    con.execute("""
        update intermediate.int_billing_accounts_matched_to_customers
        set match_method = 'billing_email', has_dangling_crm_customer_id = true
        where match_method = 'crm_customer_id'
    """)
    _, labels = _blocked(gate, BILLING)
    assert labels == [f"{BILLING}.with_crm_link: expect_column_values_to_be_in_set(match_method)"]


def test_billing_email_rescue_lost_blocks_once_enough_dangling_accounts_are_judged(con, gate):
    # Thirty more accounts whose link names nobody, none rescued by its (upper-case) e-mail: 3 of 33 rescued.
    con.execute("""
        insert into intermediate.int_billing_accounts_matched_to_customers
        select * replace (
            account_number || '-X' as account_number, 'CX' || account_number as crm_customer_id,
            null as customer_id, true as has_dangling_crm_customer_id, 'none' as match_method,
            'unmatched' as match_status
        )
        from intermediate.int_billing_accounts_matched_to_customers
        where not has_dangling_crm_customer_id
        order by account_number
        limit 30
    """)
    outcome, labels = _blocked(gate, BILLING)
    label = f"{BILLING}.email_rescue: expect_column_values_to_be_between(rescued_share_judged)"
    assert labels == [label]
    assert _value(outcome, label) == pytest.approx(3 / 33)


def test_billing_too_few_dangling_accounts_to_judge_only_warn(con, gate):
    # The company's three dangling accounts all unmatched: too few to block on, reported as a warning.
    con.execute("""
        update intermediate.int_billing_accounts_matched_to_customers
        set customer_id = null, match_method = 'none', match_status = 'unmatched'
        where has_dangling_crm_customer_id
    """)
    outcome, checks = gate(BILLING)
    assert outcome.passed and checks[BLOCKING_CHECK].passed
    assert checks[WARNING_CHECK].passed is False
    assert [w.label() for w in outcome.warnings] == [
        f"{BILLING}.email_rescue: expect_column_values_to_be_between(rescued_share)"
    ]


# --- invoices --------------------------------------------------------------------------------------------


def test_invoice_totals_disagreeing_beyond_the_planted_few_block(con, gate):
    con.execute("""
        update intermediate.int_invoices_reconciled_to_lines
        set total_minor = total_minor + 100
        where hash(invoice_id) % 20 = 0
    """)
    outcome, labels = _blocked(gate, INVOICES)
    label = f"{INVOICES}.reconciliation: expect_column_values_to_be_between(total_equals_lines_share)"
    assert labels == [label]
    assert 0.9 < _value(outcome, label) < 0.98


def test_invoice_lines_fanned_out_block_on_agreement_and_ratio(con, gate):
    con.execute("""
        update intermediate.int_invoices_reconciled_to_lines
        set lines_total_minor = 2 * lines_total_minor, line_count = 2 * line_count
    """)
    outcome, labels = _blocked(gate, INVOICES)
    prefix = f"{INVOICES}.reconciliation: expect_column_values_to_be_between"
    assert labels == [f"{prefix}(lines_to_total_ratio)", f"{prefix}(total_equals_lines_share)"]
    assert _value(outcome, f"{prefix}(lines_to_total_ratio)") == pytest.approx(2, rel=0.01)


def test_invoices_losing_their_customer_block(con, gate):
    con.execute("""
        update intermediate.int_invoices_reconciled_to_lines
        set customer_id = null
        where hash(invoice_id) % 10 = 0
    """)
    _, labels = _blocked(gate, INVOICES)
    assert labels == [f"{INVOICES}.reconciliation: expect_column_values_to_be_between(with_customer_share)"]


# --- touchpoints -----------------------------------------------------------------------------------------


def test_a_silo_vanishing_from_the_journey_blocks(con, gate):
    assert gate(TOUCHPOINTS)[0].passed  # learns the company's silo shares
    con.execute("delete from intermediate.int_touchpoints where silo = 'survey'")
    outcome, labels = _blocked(gate, TOUCHPOINTS)
    label = "int_touchpoints.silo_shares: expect_column_values_to_be_between(survey_share)"
    assert labels == [label]
    assert _value(outcome, label) == 0


def test_a_touchpoint_after_the_as_of_instant_blocks(con, gate):
    # The latest touchpoint read with a lost +09:00 offset: nine hours later, past the end of the last day.
    con.execute("""
        update intermediate.int_touchpoints
        set occurred_at = occurred_at + interval 9 hour
        where touchpoint_id = (
            select touchpoint_id from intermediate.int_touchpoints order by occurred_at desc limit 1
        )
    """)
    outcome, labels = _blocked(gate, TOUCHPOINTS)
    label = "int_touchpoints.as_of: expect_column_values_to_be_between(touchpoints_after_as_of)"
    assert labels == [label]
    assert _value(outcome, label) == 1


def test_a_stage_mapped_to_the_wrong_silo_blocks(con, gate):
    con.execute("update intermediate.int_touchpoints set silo = 'billing' where stage = 'complaint'")
    outcome, labels = _blocked(gate, TOUCHPOINTS)
    label = "int_touchpoints.combinations: expect_column_values_to_be_in_set(combination)"
    assert labels == [label]
    assert _value(outcome, label) == "complaint / billing / complaint_case / stg_crm__cases"


def test_everyones_invoices_landing_on_one_customer_block(con, gate):
    assert gate(TOUCHPOINTS)[0].passed  # learns the company's busiest customer
    con.execute("""
        update intermediate.int_touchpoints
        set customer_id = (select min(customer_id) from intermediate.int_touchpoints)
        where touchpoint_type = 'invoice'
    """)
    outcome, labels = _blocked(gate, TOUCHPOINTS)
    label = "int_touchpoints.per_customer: expect_column_values_to_be_between(busiest_customer_touchpoints)"
    assert labels == [label]
    assert _value(outcome, label) > 1000


def test_customers_losing_their_journey_block(con, gate):
    con.execute("delete from intermediate.int_touchpoints where hash(customer_id) % 10 = 0")
    _, labels = _blocked(gate, TOUCHPOINTS)
    assert labels == ["int_touchpoints.per_customer: expect_column_values_to_be_between(customer_coverage)"]


# --- customer episodes ----------------------------------------------------------------------------------

EPISODE_INVARIANT = f"{EPISODES}.invariants: expect_column_values_to_be_between"


def _customers_with_several_episodes(con) -> int:
    (count,) = con.execute(f"""
        select count(distinct customer_id) from intermediate.{EPISODES} where episode_number > 1
    """).fetchone()
    assert count > 0, "the small company must hold win-backs for these breaks to mean anything"
    return count


def test_episodes_numbered_with_a_gap_block(con, gate):
    several = _customers_with_several_episodes(con)
    con.execute(f"""
        update intermediate.{EPISODES} set episode_number = episode_number + 1 where episode_number > 1
    """)
    outcome, labels = _blocked(gate, EPISODES)
    label = f"{EPISODE_INVARIANT}(numbering_broken)"
    assert labels == [label]
    assert _value(outcome, label) >= several


def test_an_episode_starting_inside_the_previous_one_blocks(con, gate):
    # The cut ordered by something other than time: a win-back episode reported as starting with the first.
    several = _customers_with_several_episodes(con)
    con.execute(f"""
        update intermediate.{EPISODES} as later
        set episode_started_at = earlier.episode_started_at
        from intermediate.{EPISODES} as earlier
        where earlier.customer_id = later.customer_id and earlier.episode_number = later.episode_number - 1
    """)
    outcome, labels = _blocked(gate, EPISODES)
    label = f"{EPISODE_INVARIANT}(starts_before_previous_end)"
    assert labels == [label]
    assert _value(outcome, label) >= several


def test_an_open_episode_followed_by_another_blocks(con, gate):
    # Every ended episode that has a successor loses its end, flag and fields alike: still never valid.
    several = _customers_with_several_episodes(con)
    con.execute(f"""
        update intermediate.{EPISODES} as earlier
        set episode_ended_at = null, is_defection = false, defection_type = null, reason_category = null,
            stated_silo = null
        from intermediate.{EPISODES} as later
        where earlier.customer_id = later.customer_id and later.episode_number = earlier.episode_number + 1
    """)
    outcome, labels = _blocked(gate, EPISODES)
    label = f"{EPISODE_INVARIANT}(open_before_last)"
    assert labels == [label]
    assert _value(outcome, label) >= several


def test_defections_without_their_type_block(con, gate):
    con.execute(f"update intermediate.{EPISODES} set defection_type = null where is_defection")
    outcome, labels = _blocked(gate, EPISODES)
    label = f"{EPISODE_INVARIANT}(defection_fields_wrong)"
    assert labels == [label]
    (defections,) = con.execute(f"select count(*) from intermediate.{EPISODES} where is_defection").fetchone()
    assert _value(outcome, label) == defections > 0


def test_a_subscription_lost_from_the_episodes_blocks(con, gate):
    con.execute(f"""
        update intermediate.{EPISODES} set n_subscriptions = n_subscriptions - 1
        where rowid = (
            select rowid from intermediate.{EPISODES}
            where n_subscriptions > 1 order by customer_id, episode_number limit 1
        )
    """)
    outcome, labels = _blocked(gate, EPISODES)
    label = (
        f"{EPISODES}.subscriptions_accounted: expect_column_values_to_be_between(subscriptions_unaccounted)"
    )
    assert labels == [label]
    assert _value(outcome, label) == -1


# --- a gate that cannot look never passes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "column"),
    [
        (BILLING, "match_method"),
        (INVOICES, "lines_total_minor"),
        (SURVEY, "survey_type"),
        (TOUCHPOINTS, "silo"),
        (EPISODES, "stated_silo"),
    ],
)
def test_a_column_the_suite_reads_gone_is_a_raised_blocking_failure(con, gate, name, column):
    con.execute(f"alter table intermediate.{name} drop column {column}")
    outcome, checks = gate(name)
    assert checks[BLOCKING_CHECK].passed is False
    assert not outcome.passed
    raised = [f for f in outcome.blocking_failures if f.raised]
    assert raised and column in " ".join(f.error_message or "" for f in raised)
