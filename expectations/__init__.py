"""Great Expectations quality gates: one suite per table, written in Python, run on bounded DuckDB queries."""
