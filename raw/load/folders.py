"""Export day folders: which folders are export days, which only look like one, and what to refuse."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from raw.contract import load_contract
from raw.load.results import ExportsNotFound, RefusedFile


def _reads_as_day(name: str) -> date | None:
    """The date a folder name spells, in the contract's format or a near variant (no zero padding, no
    separators), or None when it is no date at all."""
    for fmt in (load_contract().export_date_format, "%Y%m%d"):
        try:
            return datetime.strptime(name, fmt).date()
        except ValueError:
            continue
    return None


def _day_folders(exports_dir: Path) -> tuple[dict[date, str], list[tuple[str, date]]]:
    """Day folders under `exports_dir`: {date: folder name} of the folders named exactly in the contract's
    format, and (name, date) of the folders whose name reads as a date in another spelling."""
    canonical: dict[date, str] = {}
    misnamed: list[tuple[str, date]] = []
    if not exports_dir.is_dir():
        return canonical, misnamed
    fmt = load_contract().export_date_format
    for entry in sorted(exports_dir.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        day = _reads_as_day(entry.name)
        if day is None:
            continue
        if entry.name == day.strftime(fmt):
            canonical[day] = entry.name
        else:
            misnamed.append((entry.name, day))
    return canonical, misnamed


def available_export_dates(exports_dir: str | Path) -> list[date]:
    """Export days under `exports_dir`, sorted: folders named exactly YYYY-MM-DD (the contract's format).

    A folder whose name reads as a date in another spelling (`2024-6-28`, `20240628`) is no export day: the
    load refuses it with an error naming it (see misnamed_day_folders). Other entries are ignored.
    """
    return sorted(_day_folders(Path(exports_dir))[0])


def misnamed_day_folders(exports_dir: str | Path, days: Iterable[date] | None = None) -> list[RefusedFile]:
    """Folders whose name reads as a date but not in the contract's YYYY-MM-DD spelling (only those reading
    as one of `days` when given), each with the reason it is not loaded, naming the folder of the same day
    when there is one."""
    canonical, misnamed = _day_folders(Path(exports_dir))
    if days is not None:
        wanted = set(days)
        misnamed = [(name, day) for name, day in misnamed if day in wanted]
    fmt = load_contract().export_date_format
    refused = []
    for name, day in misnamed:
        expected = day.strftime(fmt)
        if day in canonical:
            reason = (
                f"folder name is not YYYY-MM-DD and reads as the same day as folder '{expected}': "
                f"'{name}' was not loaded ('{expected}' was); merge or remove it"
            )
        else:
            reason = f"folder name is not YYYY-MM-DD: not loaded; rename it to '{expected}'"
        refused.append(RefusedFile(f"{name}/", reason))
    return refused


def as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.strptime(value, load_contract().export_date_format).date()


def check_exports(exports_dir: Path, days: list[date], every_day: bool) -> None:
    """Refuse to load from an exports folder that is missing or holds no export day, or when a requested
    day has no folder (naming a misnamed folder that reads as that day)."""
    if not exports_dir.is_dir():
        raise ExportsNotFound(f"exports folder {exports_dir} does not exist (or is not a folder)")
    if every_day and not days:
        misnamed = misnamed_day_folders(exports_dir)
        if not misnamed:
            raise ExportsNotFound(f"no export day folder (named YYYY-MM-DD) under {exports_dir}")
        return  # the misnamed folders are reported as refusals, which names each of them
    fmt = load_contract().export_date_format
    missing = [day for day in days if not (exports_dir / day.strftime(fmt)).is_dir()]
    if missing:
        misnamed = {day: name for name, day in _day_folders(exports_dir)[1]}
        hints = [
            f"{d.isoformat()} (folder '{misnamed[d]}' reads as that day: rename it to '{d.strftime(fmt)}')"
            if d in misnamed
            else d.isoformat()
            for d in missing
        ]
        raise ExportsNotFound(f"no export folder for {', '.join(hints)} under {exports_dir}")
