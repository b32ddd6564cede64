"""Great Expectations quality gates: one suite per table, written in Python, run on bounded DuckDB queries.

Every module of this package that imports GX is imported after this file, which first lets GX see Spark as
not installed, and only GX: on import, GX probes its optional engines, and with pyspark installed (the
`spark` extra, for dbt's Spark target) `great_expectations.compatibility.pyspark` imports pyspark, its ML
and Connect modules and their dependencies, about a tenth of GX's import, for Spark data sources the gates
never use (they validate DuckDB through SQL). `GxSparkProbe` answers that probe alone with ImportError,
the answer GX is written for (its Spark names become NotImported); any other import of pyspark in the
process, before or after, is untouched. Guard tests: tests/expectations/test_gx_compat.py.
"""

from __future__ import annotations

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
