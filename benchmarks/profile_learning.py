"""Where a cold `auto` fit spends its time: cProfile of one fit with learning, in process.

Fits `auto` on the bundled series with an empty fit cache and one process (so every
backtest fit is in the profile), then prints the wall time, the seconds per member summed
over its backtest fits, and the functions with the most cumulative time. Run it on two
commits to see what a change bought.

    .venv/bin/python benchmarks/profile_learning.py [--top 15] [--through 2026-05]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

from exportcast.models.parallel import single_threaded_blas

single_threaded_blas()

from exportcast.models.core import fit_auto  # noqa: E402
from exportcast.models.datasets import load_bundled  # noqa: E402
from exportcast.models.evaluation.auto import Learning  # noqa: E402
from exportcast.models.series import parse_month  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--through", default="2026-05")
    args = parser.parse_args()
    series = load_bundled().through(parse_month(args.through))
    fit_auto(series.through(series.end - 60))  # imports and first calls out of the way
    cache = Path(tempfile.mkdtemp(prefix="exportcast-profile-"))
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    ensemble = fit_auto(series, Learning(cache_dir=cache, jobs=1))
    profile.disable()
    seconds = time.perf_counter() - started
    print(f"cold fit of auto with learning, data through {args.through}: {seconds:.1f}s")
    print(f"learned: {ensemble.learned.get('weights') if ensemble.learned else None}")
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.sort_stats("cumulative").print_stats(args.top)
    keep = [
        line
        for line in stream.getvalue().splitlines()
        if line.strip() and not line.startswith(("   Ordered", "   List reduced"))
    ]
    print("\n".join(keep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
