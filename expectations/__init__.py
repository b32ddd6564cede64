"""Great Expectations quality gates: one suite per table, written in Python, run on bounded DuckDB queries.

Every module of this package that imports GX is imported after this file, which first lets GX see Spark as
not installed, and only GX: on import, GX probes its optional engines, and with pyspark installed (the
`spark` extra, for dbt's Spark target) `great_expectations.compatibility.pyspark` imports pyspark, its ML
and Connect modules and their dependencies, about a tenth of GX's import, for Spark data sources the gates
never use (they validate DuckDB through SQL). `GxSparkProbe` answers that probe alone with ImportError,
the answer GX is written for (its Spark names become NotImported); any other import of pyspark in the
process, before or after, is untouched.

It also imports scipy.stats lazily (importlib.util.LazyLoader): GX imports it at import time for its
distribution expectations (KL divergence, KS tests), which the gates never use, and it is about a quarter
of GX's import time. The module is registered and executed on its first attribute access, by GX or by
anyone else in the process, so code that uses it sees the same module; a process that imported it before
is untouched. Python 3.11's LazyLoader is not safe for a first access from two threads at once; nothing in
the gates accesses it at all.

Guard tests: tests/expectations/test_gx_compat.py.
"""

from __future__ import annotations

import importlib.util
import sys

# The GX module whose `import pyspark` is answered as "not installed" (see the docstring).
GX_SPARK_PROBE = "great_expectations.compatibility.pyspark"


class GxSparkProbe:
    """A meta path finder that fails `import pyspark` (and its submodules) while GX_SPARK_PROBE runs."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pyspark" or name.startswith("pyspark."):
            probe = sys.modules.get(GX_SPARK_PROBE)
            if probe is not None and getattr(getattr(probe, "__spec__", None), "_initializing", False):
                raise ModuleNotFoundError(f"{name}: not imported for GX (its gates use no Spark)", name=name)
        return None


if not any(isinstance(finder, GxSparkProbe) for finder in sys.meta_path):
    sys.meta_path.insert(0, GxSparkProbe())


# Imported lazily, see the docstring.
LAZY_MODULES = ("scipy.stats",)


def import_lazily(name: str) -> None:
    """Put `name` in sys.modules as a module loaded on its first attribute access (no-op when imported or
    not installed), and bind it on its parent package as its import would."""
    if name in sys.modules:
        return
    parent_name, _, child = name.rpartition(".")
    parent = importlib.import_module(parent_name) if parent_name else None
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    if parent is not None:
        setattr(parent, child, module)


for _name in LAZY_MODULES:
    import_lazily(_name)
