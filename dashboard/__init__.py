"""The answers dashboard: server-rendered pages (plain HTML, CSS and SVG, nothing from the network) over the
published serving file SERVING_DIR/marts.duckdb, opened read-only per request so that a new publication
swapped in by atomic rename is picked up by the next request while the current one finishes on the old file.

Start it with `make dashboard` or `python -m dashboard` (http://127.0.0.1:8050 by default).
"""
