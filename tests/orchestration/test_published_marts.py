"""The real marts as published: self-describing, free of direct identifiers, money in currency units.

Runs on the small company's full `dbt build` (tests/conftest.py built_warehouse); expected values come from
the raw rows and dbt's own manifest, never from the warehouse's SQL.
"""

import json
from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
import pytest
from support import run_dbt

from orchestration.publication import publish_marts, resolve_publication

IDENTIFIER_COLUMNS = {"email", "full_name", "phone", "billing_email"}
# ISO 4217 minor digits of the currencies a company may bill in (the raw data carries the code per row).
MINOR_DIGITS = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3}


@pytest.fixture(scope="module")
def published(built_warehouse, tmp_path_factory):
    serving = tmp_path_factory.mktemp("serving")
    publication = publish_marts(built_warehouse, serving, personal_data=False)
    return publication, resolve_publication(serving)


@pytest.fixture(scope="module")
def manifest_docs(built_warehouse, tmp_path_factory):
    """dbt's descriptions of every mart model, read from the manifest of a parse of the project."""
    work = tmp_path_factory.mktemp("manifest")
    run_dbt(["parse"], built_warehouse, work)
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return {
        node["name"]: (node["description"], {c: v["description"] for c, v in node["columns"].items()})
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }


def test_every_mart_and_column_carries_its_dbt_description_in_duckdb_and_parquet(published, manifest_docs):
    publication, folder = published
    assert set(publication.row_counts) == set(manifest_docs)
    con = duckdb.connect(str(folder / "marts.duckdb"), read_only=True)
    tables = dict(con.execute("select table_name, comment from duckdb_tables()").fetchall())
    columns = {
        (t, c): comment
        for t, c, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns()"
        ).fetchall()
    }
    con.close()
    for model, (description, column_docs) in manifest_docs.items():
        assert tables[model] == description, model
        metadata = pq.read_schema(folder / "parquet" / f"{model}.parquet").metadata
        assert metadata[b"comment"].decode() == description
        assert metadata[b"publication_id"].decode() == publication.version
        published_columns = [c for t, c in columns if t == model]
        for column in published_columns:
            assert columns[(model, column)] == column_docs[column], (model, column)
            assert metadata[f"comment:{column}".encode()].decode() == column_docs[column]


def test_no_published_file_carries_a_direct_identifier(published, built_warehouse):
    _, folder = published
    con = duckdb.connect(str(folder / "marts.duckdb"), read_only=True)
    published_columns = {c for (c,) in con.execute("select column_name from duckdb_columns()").fetchall()}
    con.close()
    assert not published_columns & IDENTIFIER_COLUMNS
    assert not (folder / "restricted").exists()
    # Not one customer's e-mail address appears in any published byte.
    warehouse = duckdb.connect(str(built_warehouse), read_only=True)
    emails = [e for (e,) in warehouse.execute("select email from raw.crm__customers limit 20").fetchall()]
    warehouse.close()
    assert emails
    blobs = [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    assert not any(e.strip().lower().encode() in blob for e in emails for blob in blobs)


def test_personal_data_is_published_only_when_asked_into_its_own_file(built_warehouse, tmp_path):
    publication = publish_marts(built_warehouse, tmp_path / "serving", personal_data=True)
    con = duckdb.connect(str(tmp_path / "serving" / "restricted" / "personal_data.duckdb"), read_only=True)
    columns = [
        c for (c,) in con.execute("select column_name from duckdb_columns() order by column_index").fetchall()
    ]
    assert {"customer_id", "email", "full_name"} <= set(columns)
    rows = con.execute("select count(*) from personal_data.dim_customer_contacts").fetchone()[0]
    con.close()
    assert rows == publication.row_counts["dim_customers"]


def _money(amount_minor: int, currency: str) -> str:
    digits = MINOR_DIGITS.get(currency.upper(), 2)
    major = Decimal(amount_minor).scaleb(-digits)
    return f"{major:.{digits}f} {currency}"


def test_journey_descriptions_show_amounts_in_currency_units(published, built_warehouse):
    _, folder = published
    warehouse = duckdb.connect(str(built_warehouse), read_only=True)
    # The staged invoice (one per id, its latest delivery) is what the journey describes.
    invoices = {
        invoice_id: _money(total, currency)
        for invoice_id, total, currency in warehouse.execute(
            "select invoice_id, total_minor, currency from staging.stg_billing__invoices"
        ).fetchall()
    }
    warehouse.close()
    con = duckdb.connect(str(folder / "marts.duckdb"), read_only=True)
    described = con.execute(
        "select source_id, description from marts.fct_journey_events where event_type = 'invoice'"
    ).fetchall()
    con.close()
    assert described
    assert all(description == f"invoice of {invoices[source_id]}" for source_id, description in described)
    # A cents figure shows as such: at least one invoice is not a whole number of currency units.
    assert any(not description.split()[2].endswith(".00") for _, description in described)


def test_publication_info_names_the_warehouse_as_of_date(published, small_company):
    _, folder = published
    con = duckdb.connect(str(folder / "marts.duckdb"), read_only=True)
    (as_of,) = con.execute("select warehouse_as_of_date from marts.publication_info").fetchone()
    con.close()
    last_export_day = max(p.name for p in small_company.exports_dir.iterdir() if p.is_dir())
    assert as_of.isoformat() == last_export_day
