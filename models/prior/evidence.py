"""Backtest cases as plain numbers: what the prior is pooled from, and what a series adds.

Three tables, one row a case, each with the months known `m` at its origin:
- `members`: each member's absolute relative error on the year in progress (what its
  weight is learned from), and the series' features at the origin;
- `now`: the uncalibrated mixture's year in progress, as the ratio of the miss of the
  year's unknown part to its 80% interval's half-width (log scale): what the current-year
  calibration is learned from;
- `later`: the years after it (horizon h >= 2), as the projected and the actual growth
  over the year in progress (`x`, `y`, logs) and the log half-widths of the 80% and 95%
  intervals: what the growth share and the spreads are learned from.

Everything is scale-free, so cases of a series of millions and one of billions pool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from exportcast.models.evaluation.scoring import Case

LEVEL, TAIL = 80.0, 95.0


def rest_ratio(case: Case, level: float = LEVEL) -> float | None:
    """How many half-widths of its `level` interval the outcome of the year's unknown part
    fell from its median (log scale); None where that is undefined."""
    if level not in case.intervals:
        return None
    low, high = case.intervals[level]
    ytd = case.year_to_date
    med, lo, hi, actual = case.median - ytd, low - ytd, high - ytd, case.actual - ytd
    if min(med, lo, hi, actual) <= 0:
        return None
    half = (np.log(hi) - np.log(lo)) / 2
    if half <= 0:
        return None
    return float(abs(np.log(actual / med)) / half)


def half_width(case: Case, level: float) -> float | None:
    if level not in case.intervals:
        return None
    low, high = case.intervals[level]
    if low <= 0 or high <= low:
        return None
    return float((np.log(high) - np.log(low)) / 2)


@dataclass(frozen=True)
class Evidence:
    """A series' cases (or a pool's), as arrays; see the module's docstring."""

    members: tuple[str, ...] = ()
    member_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    member_errors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (n, members)
    member_features: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    now_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    now_ratio: np.ndarray = field(default_factory=lambda: np.zeros(0))
    later_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    later_h: np.ndarray = field(default_factory=lambda: np.zeros(0))
    later_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    later_y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    later_half: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # 80%, 95%

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.__dict__.items() if k != "members"}


def from_cases(
    member_cases: Mapping[str, Sequence[Case]],
    raw_cases: Sequence[Case],
    features_at: Mapping[tuple[int, int], np.ndarray] | None = None,
) -> Evidence:
    """The evidence of these cases: members' year-in-progress cases on the (year, m) they
    all have (so their errors compare on the same years), the mixture's raw cases of every
    horizon. `features_at[(origin year, m)]` gives the features at each origin (zeros where
    missing)."""
    names = tuple(member_cases)
    by_member = {
        n: {(c.year, c.m): abs(c.error) for c in cs if c.horizon == 1}
        for n, cs in member_cases.items()
    }
    shared = sorted(set.intersection(*[set(v) for v in by_member.values()])) if names else []
    width = len(next(iter(features_at.values()))) if features_at else 0
    feats = [
        (features_at or {}).get((year, m), np.zeros(width)) for year, m in shared
    ]  # h = 1: the case's year is the origin's
    now = [(c.m, r) for c in raw_cases if c.horizon == 1 and (r := rest_ratio(c)) is not None]
    later = []
    for c in raw_cases:
        if c.horizon < 2 or not c.anchor or c.median <= 0 or c.actual <= 0:
            continue
        h80, h95 = half_width(c, LEVEL), half_width(c, TAIL)
        if h80 is None or h95 is None:
            continue
        later.append(
            (c.m, c.horizon, np.log(c.median / c.anchor), np.log(c.actual / c.anchor), h80, h95)
        )
    later_arr = np.array(later, dtype=float).reshape(-1, 6)
    now_arr = np.array(now, dtype=float).reshape(-1, 2)
    return Evidence(
        members=names,
        member_m=np.array([m for _, m in shared], dtype=float),
        member_errors=np.array(
            [[by_member[n][k] for n in names] for k in shared], dtype=float
        ).reshape(len(shared), len(names)),
        member_features=np.array(feats, dtype=float).reshape(len(shared), width),
        now_m=now_arr[:, 0],
        now_ratio=now_arr[:, 1],
        later_m=later_arr[:, 0],
        later_h=later_arr[:, 1],
        later_x=later_arr[:, 2],
        later_y=later_arr[:, 3],
        later_half=later_arr[:, 4:6],
    )


def concat(parts: Sequence[Evidence]) -> Evidence:
    """One evidence of many series' (the same members in each)."""
    parts = [p for p in parts if p.members]
    if not parts:
        return Evidence()
    members = parts[0].members
    if any(p.members != members for p in parts):
        raise ValueError("evidence of different members cannot be pooled")
    fields = parts[0].to_arrays()
    return Evidence(
        members=members,
        **{k: np.concatenate([getattr(p, k) for p in parts], axis=0) for k in fields},
    )
