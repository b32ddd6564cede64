"""GX suites of the intermediate layer, one module per table (the module name is the table name)."""
