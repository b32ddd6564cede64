"""GX suites of the raw layer, one module per table (the module name is the table name)."""
