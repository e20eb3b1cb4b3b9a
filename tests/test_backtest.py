"""Backtests: no look-ahead, caching, and the yardstick on a short stretch of real data."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.origins import Origin, origins
from exportcast.models.evaluation.yardstick import yardstick
from exportcast.models.registry import get_model
from exportcast.models.series import MonthlySeries, format_month


def test_origins_are_scoreable_and_cut_before_the_year_ends(kr):
    at = origins(kr, 2024)
    assert {o.year for o in at} == {2024, 2025}  # 2026 is not complete: nothing to score
    assert len(at) == 24
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


def test_yardstick_on_real_data(kr):
    report = yardstick(
        kr,
        members=["ets", "growth"],
        factory=get_model,
        from_year=2024,
        to_year=2025,
        learn_years=3,
        n_paths=200,
    )
    models = {s.model for s in report.scores}
    assert models == {"auto", "ets", "growth", "run_rate", "ytd_growth", "seasonal_naive"}
    for s in report.scores:
        if s.months == "all":
            assert s.n == 24  # 2 years x 12 origins
            assert 0 <= s.mape < 25
    # The baselines are exact at m = 0: all three say last year's total.
    assert report.mape("run_rate", 0) == pytest.approx(report.mape("ytd_growth", 0))
    auto_all = next(s for s in report.scores if s.model == "auto" and s.months == "all")
    assert auto_all.coverage[80] is not None and auto_all.winkler95 is not None
    assert all(o.year >= 2021 for o in report.states)
