"""Find a table's suite by its name: expectations/suites/<layer>/<table>.py exposing `build(ctx) -> Suite`."""

from __future__ import annotations

import importlib
import pkgutil

import expectations.suites as suites_package
from expectations.suite import Suite, SuiteContext

LAYERS = ("raw", "staging", "intermediate", "marts")


def suite_names(layer: str) -> list[str]:
    """Tables of `layer` that have a suite module (private helper modules start with `_`)."""
    package = importlib.import_module(f"{suites_package.__name__}.{layer}")
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))


def has_suite(layer: str, name: str) -> bool:
    """True when `name` (a raw table or dbt model name) has a suite in `layer`."""
    return name in suite_names(layer)


def build_suite(layer: str, name: str, ctx: SuiteContext) -> Suite:
    """Import the suite module for `name` and build its batches for this run."""
    module = importlib.import_module(f"{suites_package.__name__}.{layer}.{name}")
    suite = module.build(ctx)
    if suite.name != name:
        raise ValueError(f"suite module {layer}/{name}.py builds suite {suite.name!r}")
    return suite
