"""The dbt sources YAML describes the raw tables the contract defines, in the contract's words.

raw/contract.yml is the one home of every raw table, column and description (the loader, the raw GX suites
and the Dagster raw assets read it through raw/contract.py). dbt's sources YAML
(models/staging/<system>/_<system>__sources.yml) repeats them for dbt docs and lineage; this test keeps the
two equal, so a column added, renamed or redescribed in the contract fails here until the sources follow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raw.contract import load_contract

REPO_ROOT = Path(__file__).resolve().parents[2]
# Columns the loader adds to every raw table (raw/load/schema.py); described once per source table.
LOADER_COLUMNS = {"_export_date", "_source_file", "_line_number", "_load_id", "_loaded_at", "_extras"}


def _source_tables() -> dict[str, dict]:
    """raw table name (identifier) -> its dbt source table entry, over every staging sources file."""
    tables = {}
    for path in sorted((REPO_ROOT / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            if source.get("schema") != "raw":
                continue
            for table in source["tables"]:
                tables[table.get("identifier", table["name"])] = table
    return tables


def _described(column) -> str:
    """The contract's description of `column`, naming its earlier header names as the sources do."""
    if not column.renamed_from:
        return column.description
    return f"{column.description} (earlier name: {', '.join(column.renamed_from)}.)"


SOURCES = _source_tables()
CONTRACT = load_contract().tables


def test_every_contract_table_is_a_dbt_source():
    assert set(CONTRACT) <= set(SOURCES), sorted(set(CONTRACT) - set(SOURCES))


@pytest.mark.parametrize("table", sorted(CONTRACT))
def test_the_source_describes_the_contract_columns_in_the_contract_words(table):
    spec = CONTRACT[table]
    source = SOURCES[table]
    described = {c["name"]: c.get("description", "") for c in source.get("columns", [])}
    contract_columns = {c.name: _described(c) for c in spec.columns}
    assert {name: described.get(name) for name in contract_columns} == contract_columns
    assert set(described) - set(contract_columns) <= LOADER_COLUMNS, "columns the contract does not define"
