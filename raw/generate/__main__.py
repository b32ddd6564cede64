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
    parser = argparse.ArgumentParser(prog="python -m raw.generate", description=__doc__)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("data/exports"))
    parser.add_argument("--answer-key", type=Path, default=Path("data/answer_key"))
    parser.add_argument("--start-date", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument(
        "--no-untidiness", action="store_true", help="write clean exports (the schema change stays)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument(
        "--company",
        choices=["demo", "harbor"],
        default="demo",
        help="demo: daily exports of every feed; harbor: CRM + surveys only, one snapshot "
        "(raw/generate/harbor.py)",
    )
    args = parser.parse_args(argv)
    if args.company == "harbor":
        from .harbor import as_of_date, generate_harbor

        summary = generate_harbor(
            out_dir=args.out,
            answer_key_dir=args.answer_key,
            customers=args.customers,
            days=args.days,
            seed=args.seed,
            start_date=args.start_date,
            progress=not args.quiet,
        )
        print(summary)
        as_of = as_of_date(args.start_date, args.days)
        print(f"snapshot as of {as_of}: load it with --as-of {as_of} and COMPANY_PROFILE=harbor")
        return
    cfg = SimulationConfig(untidy=not args.no_untidiness)
    summary = generate_company(
        out_dir=args.out,
        answer_key_dir=args.answer_key,
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        start_date=args.start_date,
        config=cfg,
        progress=not args.quiet,
        chunk_size=args.chunk_size,
    )
    print(summary)


if __name__ == "__main__":
    main()
