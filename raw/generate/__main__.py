"""Generate a simulated company.

python -m raw.generate --customers 50000 --days 730 --seed 7 --out data/exports --answer-key data/answer_key
# the second company (companies/harbor): CRM + surveys only, history as one snapshot folder
python -m raw.generate --company harbor --customers 300 --days 120 --out data/harbor/exports \
    --answer-key data/harbor/answer_key
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from . import SimulationConfig, generate_company


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m raw.generate", description=__doc__)
    p.add_argument("--customers", type=int, required=True)
    p.add_argument("--days", type=int, required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=Path("data/exports"))
    p.add_argument("--answer-key", type=Path, default=Path("data/answer_key"))
    p.add_argument("--start-date", type=date.fromisoformat, default=date(2024, 1, 1))
    p.add_argument("--chunk-size", type=int, default=100_000)
    p.add_argument(
        "--no-untidiness", action="store_true", help="write clean exports (the schema change stays)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument(
        "--company",
        choices=["demo", "harbor"],
        default="demo",
        help="demo: daily exports of every feed; harbor: CRM + surveys only, one snapshot "
        "(raw/generate/harbor.py)",
    )
    a = p.parse_args(argv)
    if a.company == "harbor":
        from .harbor import as_of_date, generate_harbor

        summary = generate_harbor(
            a.out, a.answer_key, a.customers, a.days, a.seed, start_date=a.start_date, progress=not a.quiet
        )
        print(summary)
        as_of = as_of_date(a.start_date, a.days)
        print(f"snapshot as of {as_of}: load it with --as-of {as_of} and COMPANY_PROFILE=harbor")
        return
    cfg = SimulationConfig(untidy=not a.no_untidiness)
    summary = generate_company(
        a.out,
        a.answer_key,
        a.customers,
        a.days,
        a.seed,
        start_date=a.start_date,
        config=cfg,
        progress=not a.quiet,
        chunk_size=a.chunk_size,
    )
    print(summary)


if __name__ == "__main__":
    main()
