"""Orchestration: fit a model on a series (for `auto`, with what its backtests taught it),
draw paths once, then answer any question from those paths (`simulation.py`).

This is the one module that brings the model families, the registry and evaluation
together, as statsforecast's `core.py` does; nothing in `models/` imports it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import numpy as np

from exportcast.models import totals
from exportcast.models.ensemble import FittedEnsemble
from exportcast.models.evaluation.auto import Learning, learn_now
from exportcast.models.evaluation.hierarchy import scales_now
from exportcast.models.families.base import FittedModel, ModelError, rng_for
from exportcast.models.hierarchy.forecast import (
    Coherent,
    HierarchyForecast,
    make_coherent,
    summarise_hierarchy,
)
from exportcast.models.hierarchy.reconcile import METHODS, RECOMBINED
from exportcast.models.hierarchy.spec import Hierarchy
from exportcast.models.limits import DEFAULT_LEVELS, DEFAULT_PATHS, DEFAULT_YEARS
from exportcast.models.moves import Made, Moves, explain
from exportcast.models.nowcast.condition import condition_paths
from exportcast.models.nowcast.flashes import Flash
from exportcast.models.nowcast.reading import read_latest, reading_record
from exportcast.models.nowcast.trust import trust_for
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.models.results import Forecast
from exportcast.models.series import MonthlySeries, format_month
from exportcast.models.simulation import Simulation, pinned, summarise, validate_paths

log = logging.getLogger("exportcast.models")


def fit_auto(
    series: MonthlySeries,
    learning: Learning | None = None,
    members: Sequence[str] = AUTO_MEMBERS,
) -> FittedEnsemble:
    """`auto` fitted on `series`: its members mixed equally, or, given `learning`, with
    the weights and calibration learned from their backtests on this series."""
    started = time.perf_counter()
    ensemble = get_model("auto", members).fit(series)
    assert isinstance(ensemble, FittedEnsemble)
    log.info(
        "%s: fitted %s on %d months through %s in %.1fs",
        series.id,
        ", ".join(f.name for f in ensemble.fitted),
        len(series.values),
        format_month(series.end),
        time.perf_counter() - started,
    )
    if learning is None:
        return ensemble
    learned = learn_now(series, ensemble.fitted, get_model, learning)
    if learned is None:
        return ensemble
    # Applied as recorded (rounded), so the version can be made again from its record.
    return ensemble.as_recorded(learned.to_dict())


def simulate(
    series: MonthlySeries,
    model: str = "auto",
    horizon: int | None = None,
    years: int = DEFAULT_YEARS,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    learning: Learning | None = None,
    flashes: Sequence[Flash] = (),
    country: str | None = None,
) -> Simulation:
    """Fit `model` on `series` and draw `n_paths` futures covering `years` calendar years
    (or `horizon` months, if larger). `learning` lets `auto` learn from backtests.

    With a flash for the month after the series' last (`flashes` also holds past ones, from
    which the ratio of full months to flashes is learned, on `country`'s working days),
    every path's first month is conditioned on it; `learned["flash"]` says which flash and
    what it did."""
    first = series.end + 1
    horizon = max(horizon or 0, totals.months_needed(first, years))
    started = time.perf_counter()
    fitted = fit_auto(series, learning) if model == "auto" else get_model(model).fit(series)
    fit_seconds = time.perf_counter() - started
    return draw(fitted, series, model, horizon, n_paths, seed, flashes, country, fit_seconds)


def draw(
    fitted: FittedModel,
    series: MonthlySeries,
    model: str,
    horizon: int,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    flashes: Sequence[Flash] = (),
    country: str | None = None,
    fit_seconds: float = 0.0,
) -> Simulation:
    """A fitted model's paths as a version serves them: drawn with `seed`, the flash for
    the next month read in, calibrated and pinned."""
    first = series.end + 1
    reading = read_latest(series, flashes, country) if flashes else None
    if isinstance(fitted, FittedEnsemble):
        mixture = fitted.mixture(horizon, n_paths, seed, calibrated=False)
        paths, labels = mixture.paths, mixture.labels
        members, description = fitted.members, fitted.description
        learned = fitted.learned or {"weights": {k: round(v, 4) for k, v in fitted.weights.items()}}
        if fitted.skipped:
            learned = {**learned, "skipped": fitted.skipped}
        calibrate = fitted.calibrate
    else:
        paths, labels = fitted.sample_paths(horizon, n_paths, seed), None
        members, description, learned = (fitted.name,), fitted.description, {}
        calibrate = None
    # A flash is read into the members' own paths; the calibration learned from backtests
    # (without flashes) then applies to what they say with it.
    before = (calibrate(paths) if calibrate else paths)[:, 0].copy()
    if reading is not None and reading.belief is not None:
        trust = trust_for(reading.flash.period)
        paths = condition_paths(paths, labels, reading.belief, rng_for(seed, 31), trust)
    if calibrate is not None:
        paths = calibrate(paths)
    if reading is not None:
        after = paths[:, 0] if reading.belief is not None else None
        learned = {**learned, "flash": reading_record(reading, before, after)}
    paths = pinned(paths)
    validate_paths(paths, n_paths, horizon)
    return Simulation(
        series_id=series.id,
        unit=series.unit,
        model=model,
        members=members,
        description=description,
        data_through=series.end,
        actual_to_date=series.year_to_date(first // 12)[1],
        paths=paths,
        labels=labels,
        fit_seconds=fit_seconds,
        learned=learned,
        published=series.values,
    )


def forecast(
    series: MonthlySeries,
    model: str = "auto",
    years: int = DEFAULT_YEARS,
    levels: Sequence[float] = DEFAULT_LEVELS,
    targets: Sequence[float] = (),
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    learning: Learning | None = None,
    flashes: Sequence[Flash] = (),
    country: str | None = None,
) -> Forecast:
    sim = simulate(
        series,
        model,
        years=years,
        n_paths=n_paths,
        seed=seed,
        learning=learning,
        flashes=flashes,
        country=country,
    )
    return summarise(sim, years, levels, targets)


def _forecast_one(task: tuple) -> Forecast | str:
    """One series' forecast, or why it could not be made (a string crosses processes)."""
    series, model, years, levels, targets, n_paths, seed, learning = task
    try:
        return forecast(series, model, years, levels, targets, n_paths, seed, learning)
    except ModelError as exc:
        return f"{series.id}: {exc}"


def forecast_many(
    many: Sequence[MonthlySeries],
    executor: Executor | None = None,
    model: str = "auto",
    years: int = DEFAULT_YEARS,
    levels: Sequence[float] = DEFAULT_LEVELS,
    targets: Sequence[float] = (),
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    learning: Learning | None = None,
    done: Callable[[int, int], None] | None = None,
) -> list[Forecast | str]:
    """`forecast` for each series, in order, one task per series on `executor` (a process
    pool, a Dask cluster's) or in this process; a series that cannot be fitted gets a
    string saying why instead of ending the run. Each task learns on one process: the
    parallelism is across series."""
    # Learning fits of a task stay in its own process (a progress callback or an executor
    # would not cross to it).
    single = replace(learning, jobs=1, progress=None, executor=None) if learning else None
    tasks = [(s, model, years, tuple(levels), tuple(targets), n_paths, seed, single) for s in many]
    results = executor.map(_forecast_one, tasks) if executor else map(_forecast_one, tasks)
    out: list[Forecast | str] = []
    for result in results:
        out.append(result)
        if done:
            done(len(out), len(tasks))
    return out


def fit_nodes(
    hierarchy: Hierarchy,
    nodes: Mapping[str, MonthlySeries],
    model: str = "auto",
    years: int = DEFAULT_YEARS,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    learning: Learning | None = None,
    fitted: Mapping[str, Simulation] | None = None,
) -> tuple[dict[str, Simulation], list[str]]:
    """Every node's own simulation, reusing those in `fitted` (a new month of one item
    refits that item and "other", not the rest); and the nodes fitted here. With
    `learning`, `auto` learns per node, its fits cached in a folder of the node's own."""
    sims = dict(fitted or {})
    refit = []
    for name in hierarchy.nodes:
        if name in sims:
            continue
        node = nodes[name]
        how = learning
        if learning is not None and learning.cache_dir is not None:
            how = replace(learning, cache_dir=learning.cache_dir / node.id)
        sims[name] = simulate(node, model, years=years, n_paths=n_paths, seed=seed, learning=how)
        refit.append(name)
    return sims, refit


def reconcile_nodes(
    hierarchy: Hierarchy,
    nodes: Mapping[str, MonthlySeries],
    sims: Mapping[str, Simulation],
    model: str = "auto",
    methods: Sequence[str] = METHODS,
    seed: int = 0,
    learning: Learning | None = None,
) -> dict[str, Coherent]:
    """The nodes' simulations made coherent by each method, from the same paths. With
    `learning` (and `auto`), the recombined methods learn how far to widen their total
    from their own backtest (`scales_now`)."""
    recombined = [m for m in methods if m in RECOMBINED]
    scales = {}
    if model == "auto" and learning is not None and recombined:
        scales = scales_now(hierarchy, nodes, AUTO_MEMBERS, get_model, learning, recombined)
    out = {}
    for method in methods:
        learned = scales.get(method, {"scale": 1.0, "cases": 0})
        coherent = make_coherent(hierarchy, sims, nodes, method, seed, learned["scale"])
        out[method] = replace(
            coherent, record={**coherent.record, "calibration_cases": learned["cases"]}
        )
    return out


def forecast_hierarchy(
    hierarchy: Hierarchy,
    nodes: Mapping[str, MonthlySeries],
    model: str = "auto",
    method: str = "top_down",
    years: int = DEFAULT_YEARS,
    levels: Sequence[float] = DEFAULT_LEVELS,
    targets: Mapping[str, Sequence[float]] | None = None,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    learning: Learning | None = None,
) -> HierarchyForecast:
    sims, _ = fit_nodes(hierarchy, nodes, model, years, n_paths, seed, learning)
    coherent = reconcile_nodes(hierarchy, nodes, sims, model, (method,), seed, learning)
    return summarise_hierarchy(coherent[method], nodes, years, levels, targets)


def explain_move(
    before: Made,
    after: Made,
    stored_before: Simulation,
    stored_after: Simulation,
    n_paths: int = DEFAULT_PATHS,
    seed: int = 0,
    country: str | None = None,
    years: int = DEFAULT_YEARS,
    targets: Sequence[float] = (),
) -> Moves:
    """Why `stored_after` moved from `stored_before` (`moves.explain`), each step made
    again as `simulate` made the versions: the same members, seed and flash reading, the
    paths rounded to float32 as a version is stored. Members are fitted once per series."""
    model = stored_after.model
    fits: dict[tuple[int, bytes], FittedModel] = {}

    def remake(
        series: MonthlySeries, learned: Mapping[str, Any], flashes: Sequence[Flash], horizon: int
    ) -> Simulation:
        key = (series.start, np.asarray(series.values, dtype=float).tobytes())
        if key not in fits:
            # Fitted without learning; a version's learned values are applied below.
            fits[key] = get_model(model).fit(series)
        fitted = fits[key]
        if isinstance(fitted, FittedEnsemble) and learned.get("weights"):
            fitted = fitted.as_recorded(learned)
        sim = draw(fitted, series, model, horizon, n_paths, seed, flashes, country)
        return replace(sim, paths=sim.paths.astype(np.float32).astype(np.float64))

    return explain(before, after, stored_before, stored_after, remake, years, targets)
