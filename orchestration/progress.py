"""Progress lines of a run, one per stage with its counts and time.

Steps log them through Dagster (the UI shows them in the run's log) and through the Python logger
`warehouse.progress`, which `python -m orchestration.run` prints to the terminal as plain lines.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager

LOGGER = logging.getLogger("warehouse.progress")


def report(context, message: str) -> None:
    """Log one progress line to the run's log (when a Dagster context is given) and to the terminal."""
    if context is not None:
        context.log.info(message)
    LOGGER.info(message)


def print_to_terminal() -> None:
    """Print progress lines to stdout (python -m orchestration.run)."""
    if not any(getattr(h, "_warehouse_progress", False) for h in LOGGER.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", datefmt="%H:%M:%S"))
        handler._warehouse_progress = True
        LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False


@contextmanager
def timed():
    """`with timed() as elapsed: ...; elapsed()` gives the seconds since the block started."""
    started = time.monotonic()
    yield lambda: time.monotonic() - started
