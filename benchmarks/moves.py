"""Why it moved, on the real 2026 sequence and on a backtest sample: every version made as
the service makes one (auto learning from its cached backtest fits, 2,000 paths, 360 months,
stored as float32), and each move from the version before split into its steps.

- **2026 replay:** data through May 2026 (the base the bundled releases start after), then
  every dated release of June-September (first releases, revisions, flashes) in the order
  the world learnt them; the June flashes, whose first releases were not found, at their
  earliest vintage on the day they came out (the 11th and 21st).
- **Backtest sample:** one version a month with the data as it stands now through each
  month of `--sample` (default 2019-01..2020-12, the COVID years), each with its month's
  1-20 flash where one exists.

Printed: each version's 2026 (or the sample year's) median, P(>= the target), the largest
steps, and the goal: the residual under 1% of the change or $1B, whichever is larger, on
at least 95% of versions (with how large the residuals are).

    .venv/bin/python benchmarks/moves.py [--sample 2019-01:2020-12] [--no-sample] [--jobs 2]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from exportcast.models.core import explain_move, simulate
from exportcast.models.datasets import load_bundled, load_bundled_flashes, load_bundled_releases
from exportcast.models.evaluation.auto import Learning
from exportcast.models.limits import MAX_HORIZON, MAX_YEARS
from exportcast.models.moves import Made, Moves
from exportcast.models.nowcast.flashes import Flash
from exportcast.models.series import MonthlySeries, format_month, parse_month
from exportcast.models.simulation import Simulation
from exportcast.service.cli.tables import moves_table
from exportcast.service.config import get_settings

TARGET = 1_000_000.0
RELEARNED_KINDS = ("weights", "calibration", "growth", "spread")
PATHS = 2000


@dataclass(frozen=True)
class Event:
    label: str
    series: MonthlySeries
    flashes: tuple[Flash, ...]


def replay_2026() -> list[Event]:
    """The data as known on each release day, from data through May 2026 on."""
    kr, flashes, releases = load_bundled(), load_bundled_flashes(), load_bundled_releases()
    may = parse_month("2026-05")
    base = kr.through(may)
    months: dict[int, float] = {}
    later: dict[tuple[int, str], float] = {}
    known = [f for f in flashes if f.month <= may]
    # The June flashes' first releases were not found: their earliest vintage, on their days.
    june = parse_month("2026-06")
    first_seen = {(f.month, f.period): f.value for r in reversed(releases) for f in r.flashes}
    days = [(date(2026, 6, 11), "d1_10"), (date(2026, 6, 21), "d1_20")]
    steps = [(day, (), (Flash(june, p, first_seen[(june, p)]),)) for day, p in days]
    steps += [(r.as_of, r.observations, r.flashes) for r in releases]
    events = [Event("data through 2026-05", base, tuple(known))]
    flashed: set[tuple[int, str]] = set()
    for day, observations, new_flashes in steps:
        for o in observations:
            months[o.month] = o.value
        for f in new_flashes:
            later[(f.month, f.period)] = f.value
        values = list(base.values) + [months[m] for m in sorted(months)]
        series = MonthlySeries(kr.id, kr.unit, kr.start, np.asarray(values, dtype=float))
        current = tuple(known) + tuple(Flash(m, p, v) for (m, p), v in sorted(later.items()))
        what = [f"{format_month(o.month)} {'revised' if o.month in seen(events) else 'published'}"
                for o in observations]  # fmt: skip
        what += [
            f"flash {format_month(f.month)} {f.period}"
            + (" revised" if (f.month, f.period) in flashed else "")
            for f in new_flashes
        ]
        flashed |= {(f.month, f.period) for f in new_flashes}
        events.append(Event(f"{day:%m-%d} " + ", ".join(what), series, current))
    return events


def seen(events: list[Event]) -> set[int]:
    return set(range(events[-1].series.start, events[-1].series.end + 1)) if events else set()


def sample(first: int, last: int) -> list[Event]:
    """One version a month, through each month from `first - 1` to `last`, with the next
    month's 1-20 flash where there is one."""
    kr, flashes = load_bundled(), load_bundled_flashes()
    out = []
    for month in range(first - 1, last + 1):
        known = tuple(
            f for f in flashes if f.month <= month + 1 and (f.month <= month or f.period == "d1_20")
        )
        out.append(Event(f"through {format_month(month)}", kr.through(month), known))
    return out


def make(event: Event, learning: Learning) -> tuple[Made, Simulation]:
    sim = simulate(
        event.series,
        horizon=MAX_HORIZON,
        years=MAX_YEARS,
        n_paths=PATHS,
        learning=learning,
        flashes=event.flashes,
        country="KR",
    )
    learned = {k: v for k, v in sim.learned.items() if k != "track"}
    stored = replace(sim, paths=sim.paths.astype(np.float32).astype(np.float64), learned=learned)
    return Made(event.series, learned, event.flashes), stored


def walk(events: list[Event], learning: Learning) -> list[tuple[Event, Moves]]:
    out = []
    previous = None
    for event in events:
        started = time.perf_counter()
        made, sim = make(event, learning)
        if previous is not None:
            moves = explain_move(
                previous[0], made, previous[1], sim, PATHS, 0, "KR", targets=(TARGET,)
            )
            out.append((event, moves))
            print(f"  {event.label}: made in {time.perf_counter() - started:.0f}s", file=sys.stderr)
        previous = (made, sim)
    return out


def billions(v: float) -> str:
    return f"{v / 1e3:+,.1f}" if v else "0"


def show(walked: list[tuple[Event, Moves]], year: int | None = None, top: int = 3) -> None:
    for event, moves in walked:
        y = year or moves.years[0]
        if y not in moves.years:
            continue
        last = moves.years[-1]
        change = moves.after.median[y] - moves.before.median[y]
        steps = sorted(
            (
                s
                for s in moves.steps
                if s.kind != "residual" and abs(s.contribution.median[y]) >= 50
            ),
            key=lambda s: -abs(s.contribution.median[y]),
        )[:top]
        named = "; ".join(f"{s.label} {billions(s.contribution.median[y])}" for s in steps)
        print(
            f"| {event.label} | {moves.after.median[y] / 1e3:,.1f} ({billions(change)}) | "
            f"{moves.after.prob[y][TARGET]:.2f} | {moves.after.median[last] / 1e3:,.0f} "
            f"({billions(moves.after.median[last] - moves.before.median[last])}) | {named} |"
        )


def goal(walked: list[tuple[Event, Moves]], name: str) -> None:
    """Residual under max(1% of the change, $1B) on >= 95% of versions, every year shown."""
    ok, worst = 0, 0.0
    for _, moves in walked:
        left = moves.unexplained()
        fine = True
        for y in moves.years:
            change = abs(moves.after.median[y] - moves.before.median[y])
            allowed = max(0.01 * change, 1000.0)
            worst = max(worst, abs(left.median[y]))
            fine &= abs(left.median[y]) < allowed
            total = sum(s.contribution.median[y] for s in moves.steps)
            assert abs(total - (moves.after.median[y] - moves.before.median[y])) < 1e-6 * max(
                1.0, abs(moves.after.median[y])
            )
        ok += fine
    n = len(walked)
    print(
        f"{name}: residual within max(1% of the change, $1B) on {ok}/{n} versions "
        f"({ok / max(n, 1):.0%}; goal >= 95%); largest residual ${worst / 1e3:.6f}B; the "
        "steps add up to the change on every version and year"
    )


def revisions(walked: list[tuple[Event, Moves]]) -> None:
    """Are the revisions of the year in progress's median rational (Nordhaus)? The lag-1
    correlation of successive revisions within a year (relative changes), with Fisher's 95%
    interval, and of each kind of step's contributions (the re-learned values together)."""
    rows = []
    for _, moves in walked:
        year = moves.years[0]
        base = moves.before.median[year]
        kinds: dict[str, float] = {}
        for step in moves.steps:
            kind = (
                "re-learned"
                if step.kind in ("weights", "calibration", "growth", "spread")
                else step.kind
            )
            kinds[kind] = kinds.get(kind, 0.0) + step.contribution.median[year] / base
        rows.append((year, moves.after.median[year] / base - 1, kinds))
    pairs = [(a, b) for a, b in itertools.pairwise(rows) if a[0] == b[0]]
    if len(pairs) < 4:
        return
    total = np.array([(a[1], b[1]) for a, b in pairs])
    r = float(np.corrcoef(total[:, 0], total[:, 1])[0, 1])
    half = 1.96 / np.sqrt(len(pairs) - 3)
    low, high = np.tanh(np.arctanh(r) - half), np.tanh(np.arctanh(r) + half)
    print(
        f"revisions of the first year's median, lag-1 correlation {r:+.2f} "
        f"[{low:+.2f}, {high:+.2f}] over {len(pairs)} pairs (goal: within +-0.15 or the "
        "interval holding zero)"
    )
    for kind in sorted({k for _, _, kinds in rows for k in kinds} - {"residual"}):
        xs = np.array([(a[2].get(kind, 0.0), b[2].get(kind, 0.0)) for a, b in pairs])
        if xs[:, 0].std() > 0 and xs[:, 1].std() > 0:
            print(
                f"  {kind}: lag-1 correlation {np.corrcoef(xs[:, 0], xs[:, 1])[0, 1]:+.2f}, "
                f"typical size {100 * np.abs(xs).mean():.2f}%"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default="2019-01:2020-12")
    parser.add_argument("--no-sample", action="store_true")
    parser.add_argument("--no-replay", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    kr = load_bundled()
    learning = Learning(cache_dir=get_settings().fit_cache() / kr.id, jobs=args.jobs)
    if not args.no_replay:
        print("2026 replay, each version against the one before ($B):", file=sys.stderr)
        replay = walk(replay_2026(), learning)
        print(
            "| release | 2026 median (change) | P(2026 >= $1T) | 2030 median (change) "
            "| largest steps on 2026 |"
        )
        print("|---|---|---|---|---|")
        show(replay)
        goal(replay, "2026 replay")
        for event, moves in replay:
            if event.label.endswith("2026-09 published"):
                print("\n" + moves_table(moves, kr.unit, "the version before"))
    if not args.no_sample:
        first, last = (parse_month(m) for m in args.sample.split(":"))
        print("backtest sample:", file=sys.stderr)
        walked = walk(sample(first, last), learning)
        print(
            "\n| version | first year's median (change) | P(>= $1T) | fifth year's (change) "
            "| largest steps on the first year |"
        )
        print("|---|---|---|---|---|")
        show(walked)
        goal(walked, f"backtest sample {args.sample}")
        revisions(walked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
