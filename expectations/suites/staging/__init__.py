"""GX suites of the staging layer, one module per table (the module name is the table name)."""
