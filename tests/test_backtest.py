"""Backtests: no look-ahead, caching, the yardstick on a short stretch of real data, and
fits that cannot be made (too short a history at an origin) left out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from exportcast.models.core import fit_auto
from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import Learning
from exportcast.models.evaluation.baselines import BASELINES
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.evaluation.yardstick import yardstick
from exportcast.models.families.base import ModelError
from exportcast.models.registry import get_model
from exportcast.models.series import MonthlySeries, format_month


def test_origins_are_scoreable_and_cut_before_the_year_ends(kr):
    at = origins(kr, 2024)
    # The years from 2024 whose twelve months are all published, read off the raw months.
    last = kr.start + len(kr.values) - 1
    complete = [y for y in range(2024, last // 12 + 1) if y * 12 + 11 <= last]
    assert complete == [2024, 2025]  # 2026 is still being published: nothing to score
    assert sorted(at) == [Origin(y, m) for y in complete for m in range(12)]
    assert format_month(Origin(2025, 0).cutoff) == "2024-12"
    assert format_month(Origin(2025, 11).cutoff) == "2025-11"


def test_a_fit_sees_nothing_after_its_origin(kr):
    origin = Origin(2019, 4)
    altered = kr.values.copy()
    altered[origin.cutoff - kr.start + 1 :] *= 3.0  # the future, changed beyond recognition
    other = MonthlySeries(kr.id, kr.unit, kr.start, altered)
    for model in ("ets", "growth", "run_rate"):
        a = backtest.fit_at(kr, origin, model, 200, 1, get_model)
        b = backtest.fit_at(other, origin, model, 200, 1, get_model)
        np.testing.assert_array_equal(a.totals, b.totals)


def test_cached_fits_are_read_back_not_refitted(kr, tmp_path):
    at = [Origin(2020, 3), Origin(2020, 4)]
    first = backtest.run(kr, ["ets"], at, get_model, n_paths=200, cache_dir=tmp_path)
    files = sorted(tmp_path.rglob("*.npz"))
    assert len(files) == 2
    stamps = [f.stat().st_mtime_ns for f in files]
    again = backtest.run(kr, ["ets"], at, get_model, n_paths=200, cache_dir=tmp_path)
    assert [f.stat().st_mtime_ns for f in files] == stamps
    for key in first:
        np.testing.assert_array_equal(first[key].totals, again[key].totals)
    # A revision of data the fit saw is a different fit.
    revised = kr.values.copy()
    revised[Origin(2020, 3).cutoff - kr.start] *= 1.001
    backtest.run(
        MonthlySeries(kr.id, kr.unit, kr.start, revised),
        ["ets"],
        at,
        get_model,
        200,
        cache_dir=tmp_path,
    )
    assert len(sorted(tmp_path.rglob("*.npz"))) == 4


def test_parallel_serial_and_any_executor_agree(kr, tmp_path):
    at = [Origin(2021, m) for m in range(4)]
    serial = backtest.run(kr, ["growth"], at, get_model, n_paths=100, jobs=1)
    parallel = backtest.run(kr, ["growth"], at, get_model, n_paths=100, jobs=2)
    with ThreadPoolExecutor(2) as pool:  # stands in for a distributed executor
        elsewhere = backtest.run(kr, ["growth"], at, get_model, n_paths=100, executor=pool)
    for key in serial:
        np.testing.assert_allclose(serial[key].totals, parallel[key].totals)
        np.testing.assert_allclose(serial[key].totals, elsewhere[key].totals)


def by_hand(kr: MonthlySeries):
    """The bundled series' months and year totals, read off its raw values."""

    def month(year: int, k: int) -> float:  # k = 0..11
        return float(kr.values[year * 12 + k - kr.start])

    def total(year: int, months: int = 12) -> float:
        return sum(month(year, k) for k in range(months))

    return month, total


def test_yardstick_on_real_data(kr, tmp_path):
    yard = {
        "members": ["ets", "growth"],
        "factory": get_model,
        "from_year": 2024,
        "learn_years": 3,
        "n_paths": 200,
        "cache_dir": tmp_path,
    }
    report = yardstick(kr, to_year=2025, **yard)
    models = {s.model for s in report.scores}
    assert models == {"auto", "ets", "growth", "run_rate", "ytd_growth", "seasonal_naive"}
    month, total = by_hand(kr)
    # Every case is scored against its year's total and year-to-date as published.
    for c in report.cases:
        assert c.actual == pytest.approx(total(c.year), rel=1e-12)
        assert c.year_to_date == pytest.approx(total(c.year, c.m), rel=1e-12)
    # The naive baselines' projections, and so their MAPE by m and overall, by hand.
    naive = {
        "run_rate": lambda y, m: total(y, m) * 12 / m if m else total(y - 1),
        "ytd_growth": lambda y, m: (
            total(y - 1) * total(y, m) / total(y - 1, m) if m else total(y - 1)
        ),
        "seasonal_naive": lambda y, m: total(y, m) + sum(month(y - 1, k) for k in range(m, 12)),
    }
    for name, projected in naive.items():
        errors = {
            (y, m): 100 * abs(projected(y, m) / total(y) - 1)
            for y in (2024, 2025)
            for m in range(12)
        }
        for m in range(12):
            expected = np.mean([errors[(y, m)] for y in (2024, 2025)])
            assert report.mape(name, m) == pytest.approx(expected, rel=1e-9), (name, m)
        assert report.score(name, "all").mape == pytest.approx(np.mean(list(errors.values())))
    # auto's MAPE, bias and coverage, recomputed from its own projections and the totals.
    for name in ("auto", "ets", "growth"):
        mine = [c for c in report.cases if c.model == name]
        actual = np.array([total(c.year) for c in mine])
        errors = 100 * (np.array([c.median for c in mine]) / actual - 1)
        scored = report.score(name, "all")
        assert scored.mape == pytest.approx(np.mean(np.abs(errors)))
        assert scored.bias == pytest.approx(np.mean(errors))
        for level in (80.0, 95.0):
            inside = [
                c.intervals[level][0] <= a <= c.intervals[level][1]
                for c, a in zip(mine, actual, strict=True)
            ]
            assert scored.coverage[level] == pytest.approx(np.mean(inside))
    # No look-ahead: with the data cut in mid-2025, 2025 cannot be scored, and what the
    # whole run said of 2024 (auto's learning included) is what the cut run says.
    cut = yardstick(kr.through(2025 * 12 + 5), to_year=2025, **yard)
    assert {c.year for c in cut.cases} == {2024}

    def said(cases):
        return sorted((c.model, c.m, c.median, c.intervals) for c in cases if c.year == 2024)

    assert said(cut.cases) == said(report.cases)
    assert cut.states == {o: s for o, s in report.states.items() if o.year <= 2024}


def starting_in_february(kr) -> MonthlySeries:
    """The bundled series without its first month: 47 months before 2004, one too few for
    sarima at the origins of 2004 with nothing of the year known."""
    return MonthlySeries("from-feb", kr.unit, kr.start + 1, kr.values[1:])


def test_a_fit_that_cannot_be_made_is_left_out_and_never_cached(kr, tmp_path):
    short = starting_in_february(kr)
    at = [Origin(2004, 0), Origin(2004, 1)]
    with pytest.raises(ModelError, match="needs at least 48 months"):
        backtest.fit_at(short, at[0], "sarima", 50, 0, get_model)
    for _ in range(2):  # the second run reads the fit back, and tries the failure again
        results = backtest.run(short, ["sarima"], at, get_model, n_paths=50, cache_dir=tmp_path)
        assert list(results) == [("sarima", at[1])]
        assert list(results.skipped) == [("sarima", at[0])]
        assert "needs at least 48 months" in results.skipped[("sarima", at[0])]
        assert len(list(tmp_path.rglob("*.npz"))) == 1
    assert backtest.left_out(results.skipped) == ["sarima at 2004 m=0 (needs at least 48 months)"]


def test_yardstick_and_auto_learn_from_what_could_be_fitted(kr):
    short = starting_in_february(kr)
    report = yardstick(
        short,
        members=["ets", "sarima", "growth"],
        factory=get_model,
        from_year=2004,
        to_year=2004,
        learn_years=1,
        n_paths=100,
    )
    assert report.left_out() == [
        "ets at 2003 m=0 (needs at least 36 months)",
        "growth at 2003 m=0 (needs at least 36 months)",
        "sarima at 2003 m=0-11, 2004 m=0 (needs at least 48 months)",
    ]
    n = {s.model: s.n for s in report.scores if s.months == "all"}
    assert n == dict.fromkeys(["auto", "ets", "growth", *BASELINES], 12) | {"sarima": 11}
    assert np.isnan(report.mape("sarima", 0)) and report.mape("sarima", 1) > 0
    assert report.states[Origin(2004, 0)].weights.keys() == {"ets", "growth"}
    assert report.states[Origin(2004, 1)].weights.keys() == {"ets", "sarima", "growth"}


def test_the_live_fit_of_auto_survives_a_member_too_short_at_early_origins(kr):
    # Data through 2008-12: auto learns at m = 0-2 from 2004, where sarima has 47 months.
    short = starting_in_february(kr).through(2008 * 12 + 11)
    ensemble = fit_auto(short, Learning(n_paths=100))
    assert set(ensemble.weights) == {"ets", "sarima", "growth", "theta"}
    assert ensemble.learned["backtest"]["left_out"] == [
        "sarima at 2004 m=0 (needs at least 48 months)"
    ]
