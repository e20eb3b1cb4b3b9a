"""The naive baselines as members: their paths carry the baseline's point forecast and
errors drawn in runs of the series' own past residuals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exportcast.models.evaluation.baselines import run_rate, ytd_growth
from exportcast.models.families.naive import block_shocks, months_known
from exportcast.models.prior.build import CANDIDATES
from exportcast.models.registry import SINGLE, get_model


def year_total_median(series, name: str, seed: int = 3) -> float:
    m = months_known(series)
    paths = get_model(name).fit(series).sample_paths(12 - m, 4000, seed)
    return series.year_to_date((series.end + 1) // 12)[1] + float(np.median(paths.sum(axis=1)))


@pytest.mark.parametrize("back", [0, 2, 5, 9, 14, 30, 61])
def test_the_median_year_is_the_baselines_on_real_data(kr, back):
    """Over cut-offs with 1..11 months known (and a December), the median year-end total
    of `level` is the run rate and that of `yoy` is year-to-date growth, to within 2%."""
    cut = kr.through(kr.end - back)
    assert year_total_median(cut, "level") == pytest.approx(run_rate(cut), rel=0.02)
    if months_known(cut):  # after a December, yoy grows on the last twelve months instead
        assert year_total_median(cut, "yoy") == pytest.approx(ytd_growth(cut), rel=0.02)


def test_later_years_widen_and_grow_at_the_mean_yearly_change(kr):
    fit = get_model("yoy").fit(kr.through(kr.end - 5))
    paths = fit.sample_paths(48, 3000, 1)
    years = [paths[:, 12 * k : 12 * k + 12].sum(axis=1) for k in range(4)]
    spread = [np.log(np.percentile(y, 90) / np.percentile(y, 10)) for y in years]
    assert spread[3] > spread[1] > 0
    logs = np.log(kr.values)
    drift = float(np.mean(logs[12:] - logs[:-12]))
    growth = np.log(np.median(years[3]) / np.median(years[2]))
    assert growth == pytest.approx(drift, abs=0.03)


@given(
    st.lists(st.floats(-1, 1), min_size=1, max_size=40),
    st.integers(1, 90),
    st.integers(1, 20),
    st.integers(0, 2**32 - 1),
)
def test_each_path_is_one_circular_run_of_the_residuals(residuals, horizon, n_paths, seed):
    r = np.asarray(residuals)
    shocks = block_shocks(r, horizon, n_paths, np.random.default_rng(seed))
    assert shocks.shape == (n_paths, horizon)
    for row in shocks:
        starts = [s for s in range(len(r)) if r[s] == row[0]]
        index = (np.arange(horizon)[None, :] + np.array(starts)[:, None]) % len(r)
        assert any(np.array_equal(r[i], row) for i in index)


def test_the_naive_members_are_offered_and_scored_into_the_prior():
    for name in ("level", "yoy", "snaive", "theta"):
        assert name in SINGLE
        assert name in CANDIDATES


def test_theta_paths_carry_statsmodels_forecast_and_ses_errors(kr):
    """The paths' median is the library's forecast; their spread one month ahead is its
    80% interval, and h months ahead that of simple exponential smoothing,
    sigma2 x (1 + alpha^2 (h - 1)) (all on logs), to sampling error."""
    fitted = get_model("theta").fit(kr.through(kr.end - 7))
    results = fitted._results
    logs = np.log(fitted.sample_paths(6, 20000, 5))
    point = np.asarray(results.forecast(6, theta=2))
    first = np.asarray(results.prediction_intervals(1, theta=2, alpha=0.2))[0]
    assert np.median(logs, axis=0) == pytest.approx(point, abs=0.005)
    assert np.percentile(logs[:, 0], [10, 90]) == pytest.approx(first, abs=0.005)
    alpha, sigma2 = float(results.params["alpha"]), float(results.sigma2)
    expected = np.sqrt(sigma2 * (1 + alpha**2 * np.arange(6)))
    assert np.std(logs, axis=0) == pytest.approx(expected, rel=0.03)
