"""Rolling-origin backtests of year-end totals, with no look-ahead.

An origin is (year, m): data through month m of `year` (m = 0: through the previous
December), and the question is that year's total. Every model is fitted on the series cut
at the origin and nothing after it. Fits are independent, so they run in parallel across
processes, and each result is cached on disk by a hash of exactly the data it saw.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.baselines import BASELINES
from models.series import MonthlySeries

CACHE_VERSION = "2"  # bump when a model changes, so cached fits are not reused
MONTH_LEVELS = (2.5, 10.0, 50.0, 90.0, 97.5)  # monthly path percentiles kept per origin
MONTHS_AHEAD = 12


@dataclass(frozen=True, order=True)
class Origin:
    year: int
    m: int  # months of `year` published at the origin

    @property
    def cutoff(self) -> int:
        """Index of the last month the models may see."""
        return self.year * 12 + self.m - 1


def origins(
    series: MonthlySeries,
    from_year: int,
    to_year: int | None = None,
    months: Iterable[int] = range(12),
) -> list[Origin]:
    """Every (year, m) whose year is complete in the series, so it can be scored."""
    last_complete = (series.end + 1) // 12 - 1
    to_year = last_complete if to_year is None else min(to_year, last_complete)
    return [
        Origin(y, m)
        for y in range(from_year, to_year + 1)
        for m in months
        if Origin(y, m).cutoff >= series.start + 24
    ]


@dataclass(frozen=True)
class Fitted:
    """What one model said at one origin."""

    totals: np.ndarray  # draws of the target year's total (one for point baselines)
    month_quantiles: np.ndarray | None  # (len(MONTH_LEVELS), MONTHS_AHEAD), log values
    seconds: float = 0.0
    recent_errors: np.ndarray | None = None  # standardised errors of the last 3 months


def _cache_key(series: MonthlySeries, origin: Origin, model: str, n_paths: int, seed: int) -> str:
    seen = series.values[: origin.cutoff - series.start + 1]
    digest = hashlib.sha256()
    digest.update(f"{CACHE_VERSION}|{model}|{n_paths}|{seed}|{series.start}|".encode())
    digest.update(np.ascontiguousarray(seen, dtype=np.float64).tobytes())
    return digest.hexdigest()[:32]


def fit_at(series: MonthlySeries, origin: Origin, model: str, n_paths: int, seed: int) -> Fitted:
    """Fit `model` on the series cut at `origin`; the draws of the target year's total."""
    from models import totals
    from models.registry import get_model

    cut = series.through(origin.cutoff)
    started = time.perf_counter()
    if model in BASELINES:
        return Fitted(np.array([BASELINES[model](cut)]), None)
    fitted = get_model(model).fit(cut)
    paths = fitted.sample_paths(max(MONTHS_AHEAD, 12 - origin.m), n_paths, seed)
    first = cut.end + 1
    (year,) = totals.year_totals(paths, first, cut.year_to_date(origin.year)[1], years=1)
    assert year.year == origin.year
    q = np.percentile(np.log(paths[:, :MONTHS_AHEAD]), MONTH_LEVELS, axis=0)
    return Fitted(
        year.totals.astype(np.float32),
        q.astype(np.float32),
        time.perf_counter() - started,
        fitted.recent_errors(3).astype(np.float32),
    )


def _task(args: tuple) -> tuple[str, Origin, Fitted]:
    series, origin, model, n_paths, seed = args
    return model, origin, fit_at(series, origin, model, n_paths, seed)


def _pin_blas() -> None:
    # One BLAS thread per process: measured here, two processes each spawning BLAS threads
    # on two cores ran slower than a plain loop.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


class Cache:
    def __init__(self, root: Path | None):
        self.root = root

    def _path(self, key: str, model: str) -> Path:
        assert self.root is not None
        return self.root / model / f"{key}.npz"

    def get(self, key: str, model: str) -> Fitted | None:
        if self.root is None:
            return None
        path = self._path(key, model)
        if not path.exists():
            return None
        with np.load(path) as npz:
            q = npz["month_quantiles"] if "month_quantiles" in npz.files else None
            errors = npz["recent_errors"] if "recent_errors" in npz.files else None
            return Fitted(npz["totals"], q, float(npz["seconds"]), errors)

    def put(self, key: str, model: str, fitted: Fitted) -> None:
        if self.root is None:
            return
        path = self._path(key, model)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"totals": fitted.totals, "seconds": np.array(fitted.seconds)}
        if fitted.month_quantiles is not None:
            arrays["month_quantiles"] = fitted.month_quantiles
        if fitted.recent_errors is not None:
            arrays["recent_errors"] = fitted.recent_errors
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)


Results = dict[tuple[str, Origin], Fitted]


def run(
    series: MonthlySeries,
    models: Sequence[str],
    at: Sequence[Origin],
    n_paths: int = 1000,
    seed: int = 0,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> Results:
    """Fit every model at every origin (cached fits are read back, not refitted).

    Fits run on `jobs` local processes, or on any `concurrent.futures.Executor` given (a Dask
    cluster's `client.get_executor()`, say): each fit is a pure function of its inputs.
    """
    cache = Cache(cache_dir)
    results: Results = {}
    todo: list[tuple] = []
    keys: dict[tuple[str, Origin], str] = {}
    for model in models:
        for origin in at:
            if model in BASELINES:
                results[(model, origin)] = fit_at(series, origin, model, n_paths, seed)
                continue
            key = _cache_key(series, origin, model, n_paths, seed)
            keys[(model, origin)] = key
            hit = cache.get(key, model)
            if hit is not None:
                results[(model, origin)] = hit
            else:
                todo.append((series, origin, model, n_paths, seed))
    # Slowest first, so the pool does not end on one long fit.
    todo.sort(key=lambda t: t[2] != "sarima")
    done = 0
    if progress:
        progress(done, len(todo))

    def record(model: str, origin: Origin, fitted: Fitted) -> None:
        nonlocal done
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
        _pin_blas()
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            for model, origin, fitted in pool.map(_task, todo, chunksize=2):
                record(model, origin, fitted)
    return results


def print_progress(done: int, total: int) -> None:
    if total == 0:
        return
    width = 30
    filled = int(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    sys.stderr.write(f"\r  fitting [{bar}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()
