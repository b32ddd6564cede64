"""python -m dashboard [--host 127.0.0.1] [--port 8050] [--serving-dir DIR]: serve the answers dashboard."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import settings
from dashboard.server import make_server
from dashboard.serving import serving_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument(
        "--serving-dir", type=Path, default=None, help="folder of the published marts (default: SERVING_DIR)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    serving_dir = args.serving_dir.resolve() if args.serving_dir else settings.serving_dir()
    server = make_server(args.host, args.port, serving_dir)
    host, port = server.server_address[:2]
    state = "" if serving_file(serving_dir).exists() else " (no publication there yet)"
    print(
        f"Dashboard of {serving_file(serving_dir)}{state} on http://{host}:{port}/ (Ctrl-C stops it)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
