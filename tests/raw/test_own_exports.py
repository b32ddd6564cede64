"""A company's own exports: unknown columns kept in _extras (or refused, or ignored by declaration), the
minimal export (customers and subscriptions only) with every other table landed empty, an explicit as-of
date for a snapshot delivery, and the company profiles under companies/."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

import raw.load as loader
from raw.contract import load_contract, render_markdown
from raw.load import AsOfError, ContractError, load_exports, record_as_of
from raw.load.files import Refusal, _read_header
from raw.profile import COMPANIES_DIR, REPO_ROOT, ProfileError, load_profile, seed_folder_for

SURVEYS_HEADER = "survey_id,survey_type,scale_min,scale_max,question"
CUSTOMERS = (
    "customer_id,signed_up_at,updated_at\n"
    "U1,2023-05-01T10:00:00+02:00,2023-05-01T10:00:00+02:00\n"
    "U2,2023-06-01T10:00:00Z,2023-06-01T10:00:00Z\n"
)
# No price, currency, bundle or contract end: the columns a real CRM export may not have.
SUBSCRIPTIONS = (
    "subscription_id,customer_id,product,plan_code,contract_type,status,started_at,cancelled_at,"
    "cancel_type,cancel_reason_text,updated_at\n"
    "S1,U1,BROADBAND,FIBER_500,MONTHLY,ACTIVE,2023-05-02T00:00:00Z,,,,2023-05-02T00:00:00Z\n"
    "S2,U2,BROADBAND,FIBER_100,MONTHLY,CANCELLED,2023-06-02T00:00:00Z,2024-01-10T00:00:00Z,VOL,"
    "too expensive,2024-01-10T00:00:00Z\n"
)


def write(exports: Path, folder: str, table: str, text: str) -> Path:
    path = exports / folder / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def exports(tmp_path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def warehouse(tmp_path) -> Path:
    return tmp_path / "wh" / "warehouse.duckdb"


def test_unknown_columns_are_kept_in_extras(exports, warehouse):
    write(exports, "2024-03-07", "survey__surveys", SURVEYS_HEADER + ",mood,Region Code\nS1,NPS,0,10,q,ok,\n")

    (result,) = load_exports(warehouse, exports)

    assert (result.rows_delivered, result.rows_loaded, result.rows_quarantined) == (1, 1, 0)
    (extras,) = query(warehouse, "select _extras from raw.survey__surveys")[0]
    assert duckdb.sql(f"select '{extras}'::json->>'mood', '{extras}'::json->>'Region Code'").fetchone() == (
        "ok",
        None,
    )


def test_a_file_without_unknown_columns_has_no_extras(exports, warehouse):
    write(exports, "2024-03-07", "survey__surveys", SURVEYS_HEADER + "\nS1,NPS,0,10,q\n")

    load_exports(warehouse, exports)

    assert query(warehouse, "select _extras from raw.survey__surveys") == [(None,)]


def test_a_table_declaring_refuse_refuses_unknown_columns_and_ignored_ones_are_skipped(tmp_path):
    path = tmp_path / "survey__surveys.csv"
    path.write_text(SURVEYS_HEADER + ",mood\nS1,NPS,0,10,q,ok\n")
    table = load_contract().tables["survey__surveys"]

    with pytest.raises(Refusal, match="unknown column 'mood'"):
        _read_header(path, replace(table, unknown_columns="refuse"))
    header = _read_header(path, replace(table, unknown_columns="refuse"), frozenset({"mood"}))
    assert header.extras == {} and header.width == 6
    assert _read_header(path, table).extras == {"mood": 6}


def test_the_minimal_export_lands_and_every_other_table_is_empty(exports, warehouse):
    write(exports, "2024-03-07", "crm__customers", CUSTOMERS)
    write(exports, "2024-03-07", "crm__subscriptions", SUBSCRIPTIONS)

    results = load_exports(warehouse, exports)

    assert sorted((r.table_name, r.rows_loaded, r.rows_quarantined) for r in results) == [
        ("crm__customers", 2, 0),
        ("crm__subscriptions", 2, 0),
    ]
    absent = query(
        warehouse, "select absent_columns from raw.load_audit where table_name = 'crm__subscriptions'"
    )
    assert "monthly_price_minor" in absent[0][0] and "currency" in absent[0][0]
    for table in load_contract().tables:
        if table not in ("crm__customers", "crm__subscriptions"):
            assert query(warehouse, f"select count(*) from raw.{table}") == [(0,)], table


def test_as_of_is_recorded_for_a_snapshot_and_checked(exports, warehouse, capsys):
    write(exports, "2024-07-01", "crm__customers", CUSTOMERS)
    write(exports, "2024-07-01", "crm__subscriptions", SUBSCRIPTIONS)

    args = ["--exports", str(exports), "--warehouse", str(warehouse)]
    assert loader.main([*args, "--as-of", "2024-06-30"]) == 0
    assert query(warehouse, "select as_of_date, export_date from raw.load_as_of") == [
        (date(2024, 6, 30), date(2024, 7, 1))
    ]
    assert loader.main([*args, "--as-of", "2024-07-02"]) == 1
    assert "after the newest export day loaded (2024-07-01)" in capsys.readouterr().err
    with duckdb.connect(str(warehouse)) as con, pytest.raises(AsOfError):
        record_as_of(con, date(2024, 7, 2))
    assert query(warehouse, "select count(*) from raw.load_as_of") == [(1,)]


def test_as_of_needs_a_loaded_day(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con, pytest.raises(AsOfError, match="no export day"):
        record_as_of(con, date(2024, 7, 1))


def test_a_refused_file_still_raises_with_extras_allowed(exports, warehouse):
    write(exports, "2024-03-07", "survey__surveys", "survey_id,,scale_min\nS1,x,0\n")
    with pytest.raises(ContractError, match="empty column name"):
        load_exports(warehouse, exports)


@pytest.mark.parametrize("name", sorted(p.parent.name for p in COMPANIES_DIR.glob("*/profile.yml")))
def test_every_company_profile_is_valid(name):
    profile = load_profile(name)
    assert profile.seed_folder == REPO_ROOT / seed_folder_for(name)
    assert {"crm__customers", "crm__subscriptions"} <= set(profile.feeds)
    assert all(instrument.scale_min < instrument.scale_max for instrument in profile.survey_instruments)


def test_an_unknown_profile_names_the_known_ones(monkeypatch):
    with pytest.raises(ProfileError, match="must name one of: .*demo"):
        load_profile("no_such_company")


def test_the_profile_follows_company_profile_as_set_now(monkeypatch):
    monkeypatch.setenv("COMPANY_PROFILE", "harbor")
    assert load_profile().name == "harbor" and not load_profile().has_silo("billing")
    monkeypatch.setenv("COMPANY_PROFILE", "demo")
    assert load_profile().name == "demo" and load_profile().has_silo("billing")


def test_the_demo_profile_is_the_default_and_its_survey_thresholds_come_from_the_rules(monkeypatch):
    monkeypatch.delenv("COMPANY_PROFILE", raising=False)
    profile = load_profile()
    # The demo delivers every contract table but the optional network feed.
    assert profile.name == "demo" and profile.absent_feeds == ("network__service_events",)
    by_type = {i.survey_type: i for i in profile.survey_instruments}
    assert (by_type["NPS"].poor_at_or_below, by_type["NPS"].silo) == (6, "overall")
    assert by_type["ONBOARDING"].poor_at_or_below is None


def test_the_contract_docs_page_is_current():
    assert (REPO_ROOT / "docs" / "raw_contract.md").read_text() == render_markdown()
