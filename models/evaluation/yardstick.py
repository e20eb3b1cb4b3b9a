"""The yardstick: `auto`, its members, other models and the naive baselines, backtested
on every (year, m) in one run and scored side by side."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import AutoState, cases_for, learn_auto
from exportcast.models.evaluation.backtest import ModelFactory, Progress, Skipped
from exportcast.models.evaluation.baselines import BASELINES
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.evaluation.scoring import Case, Score, score_table
from exportcast.models.series import MonthlySeries


@dataclass
class Report:
    cases: list[Case]
    scores: list[Score]
    seconds: float
    fit_seconds: dict[str, float]
    states: dict[Origin, AutoState] = field(default_factory=dict)
    skipped: Skipped = field(default_factory=dict)  # (model, origin) left out -> why

    def score(self, model: str, months: str) -> Score | None:
        """The score of `model` at `months` ("3", "0-2", "all"); None without any case."""
        return next((s for s in self.scores if s.model == model and s.months == months), None)

    def mape(self, model: str, m: int) -> float:
        """NaN where the model has no case at `m` (it was left out at every such origin)."""
        found = self.score(model, str(m))
        return float("nan") if found is None else found.mape

    def left_out(self) -> list[str]:
        """One line per model and reason, e.g. "sarima at 2004 m=0 (needs at least 48 months)"."""
        return backtest.left_out(self.skipped)


def yardstick(
    series: MonthlySeries,
    members: Sequence[str],
    factory: ModelFactory,
    models: Sequence[str] = (),
    from_year: int = 2010,
    to_year: int | None = None,
    learn_years: int = 6,
    n_paths: int = 1000,
    seed: int = 0,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Report:
    """Backtest `auto` (learned from `members`), each member, `models` and the naive
    baselines on every (year, m) from `from_year`. Members also run on the `learn_years`
    before it, so that `auto` has a past to learn from at the first scored origin.

    A (model, origin) that cannot be fitted (too short a history there) is left out and
    listed in the report's `skipped`; each model is scored on the cases it has, and `auto`
    mixes the members it has at each origin."""
    started = time.perf_counter()
    first = max(from_year - learn_years, (series.start + 36) // 12)
    learn_at = origins(series, first, to_year)
    scored_at = [o for o in learn_at if o.year >= from_year]
    fitted_models = list(dict.fromkeys([*members, *models]))
    results = backtest.run(
        series,
        fitted_models,
        learn_at,
        factory,
        n_paths,
        seed,
        jobs=jobs,
        cache_dir=cache_dir,
        progress=progress,
    )
    baselines = backtest.run(series, list(BASELINES), scored_at, factory)
    skipped = {**results.skipped, **baselines.skipped}
    results.update(baselines)
    walk = learn_auto(series, members, results, learn_at)
    states = walk.states
    cases = [c for c in walk.cases if c.year >= from_year and c.horizon == 1]
    for name in [*fitted_models, *BASELINES]:
        cases.extend(cases_for(series, name, results, scored_at))
    fit_seconds = {
        name: float(sum(results[(name, o)].seconds for o in learn_at if (name, o) in results))
        for name in fitted_models
    }
    seconds = time.perf_counter() - started
    return Report(cases, score_table(cases), seconds, fit_seconds, states, skipped)
