"""Why a forecast moved: the change of each year's median and P(target) from one version to
the next, split into named steps that add up exactly to it.

Each step changes one thing and makes the version again with the same random numbers (the
same seed), in this order: the revisions of months the previous version had; each month
published since (its surprise against what the previous version expected of it, carried
through the refitted members); what was re-learned (the members' weights, the calibration
of the year in progress, the later years' growth share, their spread), each its own step;
then the flash. A step's contribution is the move it makes. What is left is the residual:
the first step's start against the previous version as stored, and the stored version
against the last step's, which is the paths' float32 storage and anything a version's
record does not hold (a version made by other code). The order matters (a later step is
measured with the earlier ones done) and is always this one.

The chain is pure: `remake` (in `core`) fits and draws; this module only decides what
changes at each step and does the sums.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exportcast.models.nowcast.flashes import Flash, latest_for
from exportcast.models.results import amount_key
from exportcast.models.series import MonthlySeries, format_month
from exportcast.models.simulation import Simulation


@dataclass(frozen=True)
class Made:
    """What a version was made from: enough to make it again."""

    series: MonthlySeries
    learned: Mapping[str, Any] = field(default_factory=dict)
    flashes: tuple[Flash, ...] = ()


# Makes a version again: from this series, mixed as `learned` says, with these flashes, with
# paths of `horizon` months (as the version being matched drew them).
Remake = Callable[[MonthlySeries, Mapping[str, Any], Sequence[Flash], int], Simulation]


@dataclass(frozen=True)
class Point:
    """What one version says of the years: each year's median and P(total >= target)."""

    median: dict[int, float]
    prob: dict[int, dict[float, float]]

    def minus(self, other: Point) -> Point:
        return Point(
            {y: self.median[y] - other.median[y] for y in self.median},
            {y: {t: p - other.prob[y][t] for t, p in ps.items()} for y, ps in self.prob.items()},
        )

    def plus(self, other: Point) -> Point:
        return Point(
            {y: self.median[y] + other.median[y] for y in self.median},
            {y: {t: p + other.prob[y][t] for t, p in ps.items()} for y, ps in self.prob.items()},
        )


def point_of(sim: Simulation, years: Sequence[int], targets: Sequence[float]) -> Point:
    """The simulation's median and target probabilities of each of `years`."""
    by_year = {d.year: o for d, o in zip(sim.year_draws, sim.sorted_years, strict=True)}
    missing = [y for y in years if y not in by_year]
    if missing:
        raise ValueError(f"the paths do not cover {missing}")
    return Point(
        {y: float(by_year[y].median()) for y in years},
        {y: {t: by_year[y].share_at_least(t) for t in targets} for y in years},
    )


@dataclass(frozen=True)
class Step:
    """One line of the waterfall: what changed (`kind`, `label`, `detail`) and what it did
    to each year's median and target probabilities."""

    kind: str  # revisions, month, weights, calibration, growth, spread, flash, residual
    label: str
    contribution: Point
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Moves:
    years: tuple[int, ...]
    targets: tuple[float, ...]
    before: Point  # the previous version, as stored
    after: Point  # this version, as stored
    steps: tuple[Step, ...]

    def unexplained(self) -> Point:
        return next(s.contribution for s in self.steps if s.kind == "residual")

    def to_dict(self) -> dict[str, Any]:
        def years(point: Point, digits: int = 3) -> dict[str, Any]:
            return {
                str(y): {
                    "median": round(point.median[y], digits),
                    "prob_at_least": {amount_key(t): round(p, 4) for t, p in point.prob[y].items()},
                }
                for y in self.years
            }

        return {
            "years": list(self.years),
            "targets": list(self.targets),
            "before": years(self.before),
            "after": years(self.after),
            "steps": [
                {
                    "kind": s.kind,
                    "label": s.label,
                    "detail": s.detail,
                    "years": years(s.contribution),
                }
                for s in self.steps
            ],
        }


def overlay(base: MonthlySeries, newer: MonthlySeries) -> tuple[MonthlySeries, list[int]]:
    """`base`'s months with `newer`'s values where it has them, and the months that changed."""
    values = np.array(base.values, dtype=float)
    changed = []
    for i in range(len(values)):
        month = base.start + i
        if newer.start <= month <= newer.end:
            value = float(newer.values[month - newer.start])
            if value != values[i]:
                values[i] = value
                changed.append(month)
    return MonthlySeries(base.id, base.unit, base.start, values), changed


def month_expected(sim: Simulation, month: int) -> dict[str, float] | None:
    """What a version expected of a month it drew: the median and 80% interval."""
    h = month - sim.first_month
    if not 0 <= h < sim.horizon:
        return None
    low, median, high = np.percentile(sim.paths[:, h], [10, 50, 90])
    return {"median": float(median), "low80": float(low), "high80": float(high)}


def _merged_steps(
    learned: Mapping[str, Any], newer: Mapping[str, Any], take: Sequence[str]
) -> dict[str, Any]:
    """`learned`'s later-year steps with `newer`'s values of the fields in `take`."""
    old = learned.get("horizon_calibration") or {}
    new = newer.get("horizon_calibration") or {}
    neutral = {"growth": 1.0, "spread": 1.0, "tail": 0.0}
    out = {}
    for h in new:
        base = {**neutral, **old.get(h, old.get(max(old, key=int)) if old else {})}
        out[h] = {**base, **{k: new[h][k] for k in take if k in new[h]}}
    return {**learned, "horizon_calibration": out}


# What is re-learned, in the order it is applied: (kind, label, how to take it from the newer).
RELEARNED: tuple[tuple[str, str, Callable[[Mapping, Mapping], dict]], ...] = (
    (
        "weights",
        "members' weights re-learned",
        lambda old, new: {**old, "weights": new.get("weights")},
    ),
    (
        "calibration",
        "calibration of the year in progress re-learned",
        lambda old, new: {**old, "calibration_scale": new.get("calibration_scale", 1.0)},
    ),
    (
        "growth",
        "later years' growth share re-learned",
        lambda old, new: _merged_steps(old, new, ("growth",)),
    ),
    (
        "spread",
        "later years' spread re-learned",
        lambda old, new: _merged_steps(old, new, ("spread", "tail")),
    ),
)


def _relearned_detail(kind: str, old: Mapping, new: Mapping) -> dict[str, Any]:
    if kind == "weights":
        return {"from": old.get("weights"), "to": new.get("weights")}
    if kind == "calibration":
        return {"from": old.get("calibration_scale"), "to": new.get("calibration_scale")}
    field_names = ("growth",) if kind == "growth" else ("spread", "tail")

    def pick(learned: Mapping) -> dict[str, Any]:
        steps = learned.get("horizon_calibration") or {}
        return {h: {k: s.get(k) for k in field_names} for h, s in steps.items()}

    return {"from": pick(old), "to": pick(new)}


def _flash_label(flashes: Sequence[Flash], month: int) -> tuple[str, dict[str, Any]]:
    flash = latest_for(flashes, month)
    if flash is None:
        return "no flash for the month to come", {}
    days = flash.period.removeprefix("d").replace("_", "-")
    return f"flash {format_month(month)}, days {days}", flash.to_dict()


def explain(
    before: Made,
    after: Made,
    stored_before: Simulation,
    stored_after: Simulation,
    remake: Remake,
    years: int = 5,
    targets: Sequence[float] = (),
) -> Moves:
    """The move from `stored_before` (made from `before`) to `stored_after` (from `after`),
    step by step (see the module's docstring), for the first `years` years of the latter."""
    if after.series.end < before.series.end:
        raise ValueError("the newer version has fewer months than the previous one")
    targets = tuple(float(t) for t in targets)
    year_list = tuple(d.year for d in stored_after.year_draws[:years])
    start = point_of(stored_before, year_list, targets)
    end = point_of(stored_after, year_list, targets)
    steps: list[Step] = []

    def read(sim: Simulation) -> Point:
        return point_of(sim, year_list, targets)

    current = read(remake(before.series, before.learned, before.flashes, stored_before.horizon))
    first = current
    horizon = stored_after.horizon

    def step(kind: str, label: str, made: Simulation, detail: dict[str, Any]) -> None:
        nonlocal current
        point = read(made)
        steps.append(Step(kind, label, point.minus(current), detail))
        current = point

    series, revised = overlay(before.series, after.series)
    learned, flashes = dict(before.learned), tuple(before.flashes)
    if revised:
        detail = {
            "months": [
                {
                    "month": format_month(m),
                    "from": float(before.series.values[m - before.series.start]),
                    "to": float(series.values[m - series.start]),
                }
                for m in revised
            ]
        }
        label = f"revisions of {len(revised)} earlier month{'s' if len(revised) > 1 else ''}"
        step("revisions", label, remake(series, learned, flashes, horizon), detail)
    for month in range(before.series.end + 1, after.series.end + 1):
        series = after.series.through(month)
        flashes = ()  # the flash the previous version read is superseded by its month
        published = float(series.values[-1])
        expected = month_expected(stored_before, month)
        detail = {"month": format_month(month), "published": published, "expected": expected}
        if expected:
            detail["surprise_pct"] = round(100 * (published / expected["median"] - 1), 2)
        label = f"{format_month(month)} published"
        step("month", label, remake(series, learned, flashes, horizon), detail)
    series = after.series
    if before.learned.get("weights") or after.learned.get("weights"):
        for kind, label, take in RELEARNED:
            moved = take(learned, after.learned)
            if _same(moved, learned):
                continue
            detail = _relearned_detail(kind, learned, moved)
            step(kind, label, remake(series, moved, flashes, horizon), detail)
            learned = moved
    flash_month = series.end + 1
    if latest_for(after.flashes, flash_month) or latest_for(flashes, flash_month):
        label, detail = _flash_label(after.flashes, flash_month)
        step("flash", label, remake(series, learned, after.flashes, horizon), detail)
    # What the steps did not reach: making the versions again against their stored paths.
    left = first.minus(start).plus(end.minus(current))
    steps.append(
        Step(
            "residual",
            "left over: versions made again vs stored",
            left,
            {
                "previous_remade_minus_stored": first.minus(start).median,
                "stored_minus_last_step": end.minus(current).median,
            },
        )
    )
    return Moves(year_list, targets, start, end, tuple(steps))


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    keys = ("weights", "calibration_scale", "horizon_calibration")
    return all(a.get(k) == b.get(k) for k in keys)
