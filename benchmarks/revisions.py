"""Are the revisions rational? Nordhaus's weak efficiency: the revision of a year's median
as one more month arrives should not be predictable from the revision before it.

`auto` is walked forward through its backtest fits (no look-ahead), one origin a month.
For each year Y and horizon (1: Y is the year in progress, 2: the year after it), the
revisions are the log changes of Y's median from one month to the next while Y stays at
that horizon; each pair of successive revisions is a case. Printed per series and horizon:
the lag-1 correlation over the pairs with its 95% interval (Fisher's z), the number of
pairs, and the share of revisions with the sign of the one before. Negative: revisions
partly reverse the month after (noise, such as learning cliffs); positive: they continue
(under-reaction, as in 2026, when the median rose every month).

    .venv/bin/python benchmarks/revisions.py [--seeds 0-3] [--series kr-exports]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import defaultdict

import numpy as np
from across_series import SERIES, scored_from

from exportcast.models.datasets import load_bundled
from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import learn_auto
from exportcast.models.evaluation.origins import origins
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.service.config import get_settings


def medians(series_id: str, seed: int, paths: int, jobs: int) -> dict:
    """(year, horizon) -> [(cutoff, median)] in time order, from `auto`'s walk."""
    series = load_bundled(series_id)
    first = scored_from(series_id, series)
    at = origins(series, max(first - 6, (series.start + 36) // 12))
    cache = get_settings().fit_cache() / "backtest" / series_id
    results = backtest.run(
        series, list(AUTO_MEMBERS), at, get_model, paths, seed, jobs=jobs, cache_dir=cache
    )
    walk = learn_auto(series, list(AUTO_MEMBERS), results, at, keep_draws=True)
    out: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
    for origin in sorted(walk.draws, key=lambda o: o.cutoff):
        if origin.year < first or origin.year > series.end // 12:
            continue
        for h in (1, 2):
            if h - 1 < len(walk.draws[origin]):
                median = float(np.median(walk.draws[origin][h - 1]))
                out[(origin.year + h - 1, h)].append((origin.cutoff, median))
    return out


def pairs(track: list[tuple[int, float]]) -> list[tuple[float, float]]:
    """Successive revisions (log changes a month apart) of one year's median."""
    revisions = [
        (b[0], np.log(b[1] / a[1])) for a, b in itertools.pairwise(track) if b[0] == a[0] + 1
    ]
    return [(r1, r2) for (t1, r1), (t2, r2) in itertools.pairwise(revisions) if t2 == t1 + 1]


def correlation(
    found: list[tuple[float, float]], n: int | None = None
) -> tuple[float, float, float, float]:
    """(r, low, high, same-sign share) with Fisher's 95% interval for `n` independent
    pairs (default: all of them; seeds redraw the same months, so pairs pooled over seeds
    count as one seed's)."""
    x = np.array(found)
    r = float(np.corrcoef(x[:, 0], x[:, 1])[0, 1])
    z, half = np.arctanh(r), 1.96 / np.sqrt((n or len(x)) - 3)
    same = float(np.mean(np.sign(x[:, 0]) == np.sign(x[:, 1])))
    return r, float(np.tanh(z - half)), float(np.tanh(z + half)), same


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0", help="e.g. 0-3 (pairs pooled over seeds)")
    parser.add_argument("--series", default=",".join(SERIES))
    parser.add_argument("--paths", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    low, _, high = args.seeds.partition("-")
    seeds = range(int(low), int(high or low) + 1)
    print("lag-1 correlation of successive revisions of a year's median [95% interval]")
    for series_id in args.series.split(","):
        by_h: dict[int, list] = defaultdict(list)
        per_seed: dict[int, list[float]] = defaultdict(list)
        for seed in seeds:
            tracks = medians(series_id, seed, args.paths, args.jobs)
            for h in (1, 2):
                mine = [p for (_, hh), t in tracks.items() if hh == h for p in pairs(t)]
                by_h[h].extend(mine)
                per_seed[h].append(correlation(mine)[0])
        for h in (1, 2):
            r, lo, hi, same = correlation(by_h[h], len(by_h[h]) // len(seeds))
            label = "current year" if h == 1 else "next year"
            seeds_r = ", ".join(f"{x:+.2f}" for x in per_seed[h])
            print(
                f"  {series_id} {label}: {r:+.2f} [{lo:+.2f}, {hi:+.2f}], "
                f"{len(by_h[h]) // len(seeds)} pairs a seed; same sign {same:.0%}; "
                f"by seed {seeds_r}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
