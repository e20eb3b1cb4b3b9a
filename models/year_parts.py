"""A version's years as JSON-ready parts, made once per level and target asked, so that a
question's years and target outlooks are assembled from lists, not computed again.

`summarise(...).years` and `.targets`, each `to_dict()`-ed, are the reference: the parts
give the same dicts, number for number (a test compares them over random questions). A
service answering many questions of one version (other levels, targets, years, a member)
reads them from here; levels and targets are the clients' to choose, so the parts kept for
them are bounded, least recently used out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exportcast.models.pace import paces
from exportcast.models.recent import Recent
from exportcast.models.results import amount_key, level_key, pace_dict
from exportcast.models.simulation import Simulation, rounded
from exportcast.models.totals import LATER


class TargetParts:
    """One target, every year: its probability (as served and exact, which `first_year_p50`
    reads), its pace (None without the published months) and how many paths reach it by
    each year."""

    def __init__(self, sim: Simulation, target: float):
        self.key = amount_key(target)
        self.exact = [o.share_at_least(target) for o in sim.sorted_years]
        self.prob = [round(p, 4) for p in self.exact]
        published = sim.published_history
        if published is None:
            self.pace: list[dict[str, Any]] | None = None
        else:
            series, history = published
            self.pace = [
                pace_dict(paces(series, d.year, [target], [p], history)[0])
                for d, p in zip(sim.year_draws, self.exact, strict=True)
            ]
        # Over the first n years the first-crossing distribution is the first n years' part
        # of the whole one, and a "later" of its own.
        crossings = sim.first_crossings
        reached, n_paths = crossings.reached(target), crossings.n
        before = [0, *reached]
        self.crossing = [
            round((now - then) / n_paths, 4) for now, then in zip(reached, before, strict=False)
        ]
        self.later = [round((n_paths - then) / n_paths, 4) for then in before]
        self.first_p50 = next((i for i, p in enumerate(self.exact) if p >= 0.5), None)


class YearParts:
    """See the module's docstring."""

    LEVELS = 128
    TARGETS = 128

    def __init__(self, sim: Simulation):
        self.sim = sim
        learned = sim.learned.get("expected_error_by_horizon") or []
        self.fixed = [
            {
                "year": d.year,
                "months_observed": d.months_observed,
                "actual_to_date": round(d.actual_to_date, 3),
                "median": round(median, 3),
                "mean": round(mean, 3),
            }
            for d, (median, mean) in zip(sim.year_draws, sim.year_centres, strict=True)
        ]
        self.year_keys = [str(d.year) for d in sim.year_draws]
        self.errors = [learned[i] if i < len(learned) else None for i in range(len(self.fixed))]
        self._levels: Recent[float, list[list[float]]] = Recent(self.LEVELS)
        self._targets: Recent[float, TargetParts] = Recent(self.TARGETS)

    def level(self, level: float) -> list[list[float]]:
        """Every year's [low, high] at `level`, rounded as served."""

        def make() -> list[list[float]]:
            low, high = self.sim.year_rows.central_interval(level, len(self.fixed))
            return [list(pair) for pair in zip(rounded(low), rounded(high), strict=True)]

        return self._levels.made(level, make)

    def target(self, target: float) -> TargetParts:
        return self._targets.made(target, lambda: TargetParts(self.sim, target))

    def years(
        self, n: int, levels: Sequence[float], targets: Sequence[float]
    ) -> list[dict[str, Any]]:
        """The first `n` years as `YearProjection.to_dict` gives them."""
        if n > len(self.fixed):
            raise ValueError(
                f"the paths cover {len(self.fixed)} calendar years, {n} were asked for"
            )
        bands = [(level_key(level), self.level(float(level))) for level in levels]
        wanted = [self.target(float(t)) for t in targets]
        with_pace = bool(wanted) and wanted[0].pace is not None
        return [
            {
                **self.fixed[i],
                "intervals": {key: band[i] for key, band in bands},
                "prob_at_least": {t.key: t.prob[i] for t in wanted},
                "expected_error": self.errors[i],
                "pace": {t.key: t.pace[i] for t in wanted} if with_pace else None,  # type: ignore[index]
            }
            for i in range(n)
        ]

    def outlooks(self, n: int, targets: Sequence[float]) -> list[dict[str, Any]]:
        """Each target's outlook over the first `n` years, as `TargetOutlook.to_dict`."""
        out = []
        for amount in targets:
            parts = self.target(float(amount))
            crossing = dict(zip(self.year_keys[:n], parts.crossing[:n], strict=True))
            crossing[LATER] = parts.later[n]
            first = parts.first_p50
            out.append(
                {
                    "amount": amount,
                    "first_year_p50": None
                    if first is None or first >= n
                    else self.fixed[first]["year"],
                    "crossing_year": crossing,
                }
            )
        return out


def year_parts(sim: Simulation) -> YearParts:
    """The simulation's parts, made on first use and kept with it."""
    return sim.kept("year_parts", lambda: YearParts(sim))
