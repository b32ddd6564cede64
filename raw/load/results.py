"""What a load reports: a result per file, a refused file, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class FileLoadResult:
    """What happened to one export file."""

    table_name: str
    export_date: date
    source_file: str
    rows_delivered: int
    rows_loaded: int
    rows_quarantined: int
    status: str  # 'loaded' | 'unchanged' | 'replaced'
    file_sha256: str


@dataclass(frozen=True)
class RefusedFile:
    """A file refused as a whole because it breaks the contract."""

    source_file: str
    reason: str


class ContractError(Exception):
    """One or more files break the landing contract; `refused` names them, `results` holds what did load."""

    def __init__(self, refused: list[RefusedFile], results: list[FileLoadResult] | None = None):
        self.refused = list(refused)
        self.results = list(results or [])
        lines = [f"{len(self.refused)} export file(s) or folder(s) refused, nothing loaded from them:"]
        lines += [f"  {r.source_file}: {r.reason}" for r in self.refused]
        super().__init__("\n".join(lines))


class RawSchemaError(Exception):
    """A raw table stored in the warehouse disagrees with the contract in a way the loader cannot mend."""


class ExportsNotFound(FileNotFoundError):
    """The exports folder, or a requested day folder in it, does not exist."""
