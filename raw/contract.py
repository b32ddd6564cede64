"""The raw landing contract (raw/contract.yml) as typed Python objects, and its readable rendering.

contract.yml is the single source of truth; this module only reads it, so the loader, the docs page and
anyone else share one interpretation (renames, required columns, types).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTRACT_PATH = Path(__file__).with_name("contract.yml")
DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "raw_contract.md"

# Load metadata every landed row carries, after the contract's own columns (name, DuckDB type, meaning).
LOAD_METADATA_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_export_date", "DATE", "Export day folder the row came from."),
    ("_source_file", "VARCHAR", "File relative to the exports folder, e.g. 2024-03-07/crm__contacts.csv."),
    ("_line_number", "BIGINT", "Physical line in the file where the record starts (header = line 1)."),
    ("_load_id", "VARCHAR", "Identifier of the file load; joins to raw.load_audit."),
    ("_loaded_at", "TIMESTAMPTZ", "When the loader wrote the row."),
    (
        "_extras",
        "VARCHAR",
        "JSON object of the header columns the contract does not know, by header name (NULL when none).",
    ),
)
UNKNOWN_COLUMN_POLICIES = ("keep", "refuse")


@dataclass(frozen=True)
class ColumnSpec:
    """One contract column: its DuckDB type, whether it is required, and its earlier names."""

    name: str
    type: str
    required: bool
    description: str
    renamed_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """One raw table: the source system and silo it belongs to, its grain, key and columns in order."""

    name: str
    system: str
    silo: str
    description: str
    grain: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    # What a header column the contract does not know does to a file: keep (its values go to _extras) or
    # refuse (the whole file is refused).
    unknown_columns: str = "keep"

    @property
    def column_names(self) -> list[str]:
        """Contract column names in contract order."""
        return [c.name for c in self.columns]

    def header_aliases(self) -> dict[str, str]:
        """Every accepted header name (current or renamed_from) mapped to the contract column name."""
        aliases = {c.name: c.name for c in self.columns}
        for column in self.columns:
            for old in column.renamed_from:
                aliases[old] = column.name
        return aliases


@dataclass(frozen=True)
class Contract:
    """The whole landing contract: file layout and every table."""

    version: int
    file_pattern: str
    export_date_format: str
    tables: dict[str, TableSpec]
    unknown_columns: str = "keep"


def _policy(value: str, where: str) -> str:
    if value not in UNKNOWN_COLUMN_POLICIES:
        raise ValueError(f"{where}: unknown_columns must be one of {', '.join(UNKNOWN_COLUMN_POLICIES)}")
    return value


def _parse(document: dict) -> Contract:
    default_policy = _policy(document.get("unknown_columns", "keep"), "contract.yml")
    tables = {}
    for name, spec in document["tables"].items():
        columns = tuple(
            ColumnSpec(
                name=col["name"],
                type=col["type"].upper(),
                required=bool(col.get("required", False)),
                description=str(col.get("description", "")).strip(),
                renamed_from=tuple(col.get("renamed_from", ()) or ()),
            )
            for col in spec["columns"]
        )
        tables[name] = TableSpec(
            name=name,
            system=spec["system"],
            silo=spec["silo"],
            description=" ".join(str(spec.get("description", "")).split()),
            grain=spec.get("grain", ""),
            key=tuple(spec.get("key", ())),
            columns=columns,
            unknown_columns=_policy(spec.get("unknown_columns", default_policy), f"contract.yml {name}"),
        )
    return Contract(
        version=int(document["version"]),
        file_pattern=document["file_pattern"],
        export_date_format=document["export_date_format"],
        tables=tables,
        unknown_columns=default_policy,
    )


@cache
def load_contract(path: Path = CONTRACT_PATH) -> Contract:
    """Read and parse contract.yml (cached: the file does not change while a process runs)."""
    with open(path, encoding="utf-8") as handle:
        return _parse(yaml.safe_load(handle))


def _cell(text: str) -> str:
    # A pipe would end a Markdown table cell early.
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(contract: Contract | None = None) -> str:
    """The contract as a Markdown page (docs/raw_contract.md is this output, checked by a test)."""
    contract = contract or load_contract()
    lines = [
        "# Raw landing contract",
        "",
        "<!-- Generated from raw/contract.yml by raw.contract.render_markdown(); do not edit by hand.",
        "     Regenerate: python -m raw.contract -->",
        "",
        f"Contract version {contract.version}. Every export day is a folder holding one CSV per table:",
        f"`<exports_dir>/{contract.file_pattern}` with `export_date` formatted as "
        f"`{contract.export_date_format}`. The loader (`raw/load/`) lands each table in `raw.<table>`.",
        "",
        "- **Required** columns must be in the header; a row with an empty required value is quarantined.",
        "- **Optional** columns may be missing from the header and load as NULL.",
        "- **Renamed from**: earlier header names still accepted and loaded under the current name.",
        "- A header column the contract does not know is kept: its values land in the row's `_extras`",
        "  column as a JSON object keyed by the header name (a table declaring `unknown_columns: refuse`",
        "  refuses the file instead). A company profile may list columns to ignore (`ignore_columns`).",
        "- A table the company profile does not list as a feed still lands as an empty raw table.",
        "- Only folders named exactly as `export_date` is formatted are export days; a folder whose name",
        "  reads as a date in another spelling (`2024-6-28`, `20240628`) is refused with an error naming it.",
        "- Every line ends with LF or CRLF, the last one included: a last line without a line ending is",
        "  quarantined, since a file cut short cannot be told apart from a complete one otherwise.",
        "",
        "Rows that do not fit (an empty required value, a value that does not cast to its type,",
        "a wrong number of fields) are set aside in `raw.load_quarantine` with their original text,",
        "physical line number and reason; every file gets a row in `raw.load_audit` where",
        "rows_delivered = rows_loaded + rows_quarantined.",
        "",
        "| Table | System | Silo | Grain | Key |",
        "|---|---|---|---|---|",
    ]
    for table in contract.tables.values():
        lines.append(
            f"| [`{table.name}`](#{table.name}) | {table.system} | {table.silo} | {_cell(table.grain)} "
            f"| `{', '.join(table.key)}` |"
        )
    for table in contract.tables.values():
        lines += [
            "",
            f"## {table.name}",
            "",
            _cell(table.description),
            "",
            f"- File: `{contract.file_pattern.format(export_date='<YYYY-MM-DD>', table=table.name)}`",
            f"- System: {table.system}; silo: {table.silo}",
            f"- Grain: {table.grain}",
            f"- Key: `{', '.join(table.key)}`",
            f"- Unknown columns: {table.unknown_columns}",
            "",
            "| Column | Type | Required | Renamed from | Meaning |",
            "|---|---|---|---|---|",
        ]
        for column in table.columns:
            renamed = ", ".join(f"`{old}`" for old in column.renamed_from)
            lines.append(
                f"| `{column.name}` | {column.type} | {'yes' if column.required else 'no'} | {renamed} "
                f"| {_cell(column.description)} |"
            )
    lines += [
        "",
        "## Load metadata",
        "",
        "Every landed row also carries these columns, after the contract's own:",
        "",
        "| Column | Type | Meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {dtype} | {meaning} |" for name, dtype, meaning in LOAD_METADATA_COLUMNS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOCS_PATH.write_text(render_markdown(), encoding="utf-8")
    print(f"wrote {DOCS_PATH}")
