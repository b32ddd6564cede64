"""Every place the gates touch a private Great Expectations internal, each with the reason and its guard test.

1. DuckDB connections kept open (correctness). GX's SQL execution engine closes its SQLAlchemy connection
   after each query and only then fetches the rows, unless the dialect is in the private tuple
   `_PERSISTED_CONNECTION_DIALECTS`; DuckDB is not (upstream great_expectations issues 10738 and 11579).
   DuckDB's closing rollback discards the pending result, so every expectation "fails" with an IndexError
   hidden in exception_info. `persist_duckdb_connections()` adds DuckDB to that tuple. It runs when this
   module is imported and again whenever a GxRunner is created, which raises GxPatchError (every gate
   fails loudly rather than passing) if the tuple is gone or changed shape after a GX upgrade.
2. No config writes in the ephemeral context (speed only). `skip_in_memory_config_writes(context)`: see
   its docstring. If GX renames the method, the writes come back and nothing else changes.
3. Expectation type names computed once per class (speed only). `memoize_expectation_type_names()`: see
   its docstring. If GX moves the name, the patch does nothing and nothing else changes.

Guards (tests/expectations/test_gx_compat.py): the patch is in place, a moved or reshaped tuple stops the
runner, GX without the patch really does fail as described (the day GX fixes the bug upstream, that test
says the patch can go), and the ephemeral context writes no config.
"""

from __future__ import annotations

import contextlib
import enum
import functools

from great_expectations.execution_engine import sqlalchemy_execution_engine as _gx_sql_engine
from great_expectations.expectations import expectation as _gx_expectation

# What GX calls the SQLAlchemy dialect of duckdb-engine (`engine.dialect.name`).
DUCKDB_DIALECT = "duckdb"
_TUPLE = "_PERSISTED_CONNECTION_DIALECTS"


class _DuckDBDialect(enum.StrEnum):
    """DuckDB as GX's dialect tuple expects it: equal to the dialect name, with a `.value`."""

    DUCKDB = DUCKDB_DIALECT


class GxPatchError(RuntimeError):
    """GX's internals changed so that DuckDB push-down cannot be enabled; the gates refuse to run blind."""


def persist_duckdb_connections() -> None:
    """Make GX keep its DuckDB connection open between executing a query and fetching its rows.

    Idempotent. Raises GxPatchError when the tuple is missing or no longer holds dialect enums, i.e. a GX
    upgrade moved it: then the patch would not apply and every expectation would fail with a hidden
    IndexError.
    """
    dialects = getattr(_gx_sql_engine, _TUPLE, None)
    if not isinstance(dialects, tuple) or not all(hasattr(d, "value") for d in dialects):
        raise GxPatchError(
            f"great_expectations.execution_engine.sqlalchemy_execution_engine.{_TUPLE} "
            f"is missing or changed shape (found {dialects!r}); DuckDB push-down cannot be enabled. "
            "Check whether GX now persists DuckDB connections itself (GX issues 10738, 11579)."
        )
    if DUCKDB_DIALECT not in dialects:
        setattr(_gx_sql_engine, _TUPLE, (*dialects, _DuckDBDialect.DUCKDB))


def duckdb_pushdown_enabled() -> bool:
    """True when GX will keep DuckDB connections open (the patch is in place)."""
    return DUCKDB_DIALECT in getattr(_gx_sql_engine, _TUPLE, ())


def skip_in_memory_config_writes(context) -> None:
    """Stop an ephemeral context from serialising its whole config to YAML after every change.

    GX reads an ephemeral context's config from the config object itself (DataContextVariables._get), and
    its own docstring of `_save_project_config` says ephemeral contexts are "not saved"; yet each datasource,
    asset and batch definition added or deleted makes it write the whole config as YAML into an in-memory
    store that nothing reads, hundreds of writes in a full run, each of a config that grows with the run.
    Overridden on the given context only, never on GX's class.
    """
    context._save_project_config = lambda *args, **kwargs: None


def memoize_expectation_type_names() -> None:
    """Convert each Expectation class name to its snake-case type once, not on every use.

    `Expectation.configuration` is a property that GX rebuilds on every read, and its metric planning reads
    it once per argument of an expectation, tens of thousands of times in a full run; each build converts the
    class name (ExpectColumnValuesToNotBeNull) to the type (expect_column_values_to_not_be_null) with two
    regular expressions. The conversion is a pure function of the name, so a cache returns the same string.
    Only the name `camel_to_snake` as GX's expectation module sees it is replaced; GX's util keeps its own.
    Idempotent.
    """
    convert = getattr(_gx_expectation, "camel_to_snake", None)
    if convert is not None and not hasattr(convert, "cache_info"):
        _gx_expectation.camel_to_snake = functools.cache(convert)


def expectation_type_names_memoized() -> bool:
    """True when GX's expectation module converts class names through the cache."""
    return hasattr(getattr(_gx_expectation, "camel_to_snake", None), "cache_info")


# Applied at import for any GX use in this process; a GX that moved the tuple is reported by GxRunner(), so
# that importing the Dagster definitions does not fail for assets that have no GX gate.
with contextlib.suppress(GxPatchError):
    persist_duckdb_connections()
memoize_expectation_type_names()
