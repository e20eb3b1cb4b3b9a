"""Rolling-origin backtests of year-end totals, with no look-ahead.

Every model is fitted on the series cut at the origin and nothing after it. Models come
from a factory (name -> model) handed in by the caller, so evaluation sits above the model
families and never imports the registry. Fits are independent, so they run in parallel
across processes or on any executor, and each result is cached on disk by the data it saw.

A model that cannot be fitted at an origin (too short a history there, no candidate fitted:
a `ModelError`) is left out at that origin, with the reason, instead of ending the run; a
failure is never cached, so it is tried again next time.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from exportcast.models import totals
from exportcast.models.evaluation.baselines import BASELINES
from exportcast.models.evaluation.cache import FitCache, cache_key
from exportcast.models.evaluation.origins import HORIZONS, Fitted, Origin, Results
from exportcast.models.families.base import Model, ModelError
from exportcast.models.parallel import shared_pool
from exportcast.models.series import MonthlySeries

ModelFactory = Callable[[str], Model]
Progress = Callable[[int, int], None]  # (fits done, fits to do)
Skipped = dict[tuple[str, Origin], str]  # (model, origin) left out -> why


def logged_progress(log: logging.Logger, label: str, every: float = 0.25) -> Progress:
    """A progress callback that logs "label: fits 12/66" at the start, at each `every` of
    the way and at the end; silent when nothing is left to fit."""
    logged = -1.0

    def update(done: int, total: int) -> None:
        nonlocal logged
        if total == 0:
            return
        share = done / total
        if done == 0 or done == total or share - logged >= every:
            logged = share
            log.info("%s: fits %d/%d", label, done, total)

    return update


class Backtest(Results):
    """The fits of a run, keyed by (model, origin), and the pairs left out (`skipped`, with
    the reason): a (model, origin) is in one or the other."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: Skipped = {}
        self.missing = 0  # fits neither cached nor made (the run was told not to fit)


def fit_at(
    series: MonthlySeries,
    origin: Origin,
    model: str,
    n_paths: int,
    seed: int,
    factory: ModelFactory,
) -> Fitted:
    """Fit `model` on the series cut at `origin`; the draws of the target year's total and,
    from the same paths, of the `HORIZONS - 1` years after it.

    Raises `ModelError` if the model cannot be fitted on the cut series."""
    cut = series.through(origin.cutoff)
    started = time.perf_counter()
    if model in BASELINES:
        return Fitted(np.array([BASELINES[model](cut)]))
    fitted = factory(model).fit(cut)
    # Always HORIZONS years of months, whatever m: the draws (and so the cached fits) of a
    # given origin do not depend on how much of its year is known.
    paths = fitted.sample_paths(12 * HORIZONS, n_paths, seed)
    ytd = cut.year_to_date(origin.year)[1]
    first, *later = totals.year_totals(paths, cut.end + 1, ytd, years=HORIZONS)
    assert first.year == origin.year and len(later) == HORIZONS - 1
    return Fitted(
        first.totals.astype(np.float32),
        time.perf_counter() - started,
        fitted.recent_errors(3).astype(np.float32),
        np.stack([y.totals for y in later]).astype(np.float32),
    )


def _task(args: tuple) -> tuple[str, Origin, Fitted | str]:
    """One fit, or why it could not be made (a string crosses processes as easily)."""
    series, origin, model, n_paths, seed, factory = args
    try:
        return model, origin, fit_at(series, origin, model, n_paths, seed, factory)
    except ModelError as exc:
        return model, origin, str(exc) or type(exc).__name__


def run(
    series: MonthlySeries,
    models: Sequence[str],
    at: Sequence[Origin],
    factory: ModelFactory,
    n_paths: int = 1000,
    seed: int = 0,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    fit_missing: bool = True,
) -> Backtest:
    """Fit every model at every origin (cached fits are read back, not refitted); a
    (model, origin) that cannot be fitted is left out and listed in `.skipped`. With
    `fit_missing` False, only cached fits are read and the rest counted in `.missing`.

    Fits run on `jobs` local processes (a pool kept for the next run), or on any
    `concurrent.futures.Executor` given: each fit is a pure function of its inputs (the
    factory must be picklable to cross processes).
    """
    cache = FitCache(cache_dir)
    results = Backtest()
    todo: list[tuple] = []
    keys: dict[tuple[str, Origin], str] = {}
    for model in models:
        for origin in at:
            if model in BASELINES:
                results[(model, origin)] = fit_at(series, origin, model, n_paths, seed, factory)
                continue
            key = cache_key(series, origin, model, n_paths, seed)
            keys[(model, origin)] = key
            hit = cache.get(key, model)
            if hit is not None:
                results[(model, origin)] = hit
            else:
                todo.append((series, origin, model, n_paths, seed, factory))
    if not fit_missing:
        results.missing = len(todo)
        todo = []
    # Slowest first, so the pool does not end on one long fit.
    todo.sort(key=lambda t: t[2] != "sarima")
    done = 0
    if progress:
        progress(done, len(todo))

    def record(model: str, origin: Origin, fitted: Fitted | str) -> None:
        nonlocal done
        if isinstance(fitted, str):
            results.skipped[(model, origin)] = fitted  # never cached: tried again next run
        else:
            results[(model, origin)] = fitted
            cache.put(keys[(model, origin)], model, fitted)
        done += 1
        if progress:
            progress(done, len(todo))

    if executor is not None:
        for model, origin, fitted in executor.map(_task, todo):
            record(model, origin, fitted)
    elif jobs <= 1 or len(todo) < 4:
        for task in todo:
            record(*_task(task))
    else:
        for model, origin, fitted in shared_pool(jobs).map(_task, todo, chunksize=2):
            record(model, origin, fitted)
    return results


def _reason(model: str, reason: str) -> str:
    """The reason without the model's name or what changes from origin to origin."""
    reason = re.sub(r",? the series has \d+$", "", reason.strip())
    return reason.removeprefix(f"{model} ")


def _months(ms: Sequence[int]) -> str:
    """0,1,2,5 -> "0-2,5"."""
    runs: list[list[int]] = []
    for m in sorted(ms):
        if runs and m == runs[-1][-1] + 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def left_out(skipped: Skipped) -> list[str]:
    """What a run left out, one line per model and reason, e.g.
    "sarima at 2003 m=0-11, 2004 m=0 (needs at least 48 months)"."""
    groups: dict[tuple[str, str], dict[int, list[int]]] = {}
    for (model, origin), reason in sorted(skipped.items()):
        years = groups.setdefault((model, _reason(model, reason)), {})
        years.setdefault(origin.year, []).append(origin.m)
    return [
        f"{model} at " + ", ".join(f"{y} m={_months(ms)}" for y, ms in years.items()) + f" ({why})"
        for (model, why), years in groups.items()
    ]
