"""GX suites, one per table: expectations/suites/<layer>/<table>.py."""
