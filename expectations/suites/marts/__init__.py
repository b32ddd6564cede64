"""GX suites of the marts layer, one module per table (the module name is the table name)."""
