"""Run the loader's CLI: python -m raw.load --exports <folder> --warehouse <file> [--date YYYY-MM-DD ...]."""

import sys

from raw.load.cli import main

sys.exit(main())
