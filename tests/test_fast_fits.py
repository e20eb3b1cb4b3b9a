"""The fast way of fitting SARIMA-type members gives what the slow way gave, and the
differencing taken out of the fit is put back exactly on the paths."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from exportcast.models.evaluation.auto import Learning, learn_now, prefetch_next
from exportcast.models.families.differencing import Differencing, difference, integrate
from exportcast.models.families.sarima import ORDERS, SEASONAL, fit_sarimax
from exportcast.models.prior.pooled import kernel_months
from exportcast.models.registry import AUTO_MEMBERS, get_model
from exportcast.models.series import parse_month

ORDERS_TO_UNDO = st.sampled_from([(0, 0), (1, 0), (0, 1), (1, 1), (2, 1), (1, 2)])
values = arrays(float, st.integers(40, 80), elements=st.floats(-1e3, 1e3))


@settings(max_examples=60, deadline=None)
@given(values, ORDERS_TO_UNDO, st.sampled_from([4, 12]))
def test_integrating_the_differenced_series_gives_it_back(y, orders, period):
    d, seasonal_d = orders
    w = difference(y, d, seasonal_d, period)
    n_lags = len(y) - len(w)
    back = integrate(w[None, :], y[:n_lags], d, seasonal_d, period)[0]
    np.testing.assert_allclose(back, y[n_lags:], atol=1e-6 * (1 + np.abs(y).max()))


@settings(max_examples=40, deadline=None)
@given(values, ORDERS_TO_UNDO, st.integers(1, 5))
def test_differencing_integrated_paths_gives_the_shocks_back(y, orders, n_paths):
    d, seasonal_d = orders
    undo = Differencing.of(y, d, seasonal_d, 12)
    shocks = np.random.default_rng(0).normal(size=(n_paths, 15))
    paths = undo.undo(shocks)
    for path, shock in zip(paths, shocks, strict=True):
        joined = np.concatenate([y, path])
        np.testing.assert_allclose(
            difference(joined, d, seasonal_d, 12)[-15:],
            shock,
            atol=1e-6 * (1 + np.abs(joined).max()),
        )


@pytest.mark.parametrize("order", ORDERS)
def test_fast_sarima_finds_the_slow_fits_likelihood_and_forecast_on_real_data(kr, order):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = np.log(kr.values)
    fast, undo = fit_sarimax(y, order, SEASONAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slow = SARIMAX(y, order=order, seasonal_order=SEASONAL).fit(disp=False)
    assert fast.aicc == pytest.approx(slow.aicc, abs=0.05)
    np.testing.assert_allclose(fast.params, slow.params[:-1], atol=2e-3)
    fast_mean = undo.undo(np.asarray(fast.forecast(24))[None, :])[0]
    np.testing.assert_allclose(fast_mean, slow.forecast(24), rtol=1e-3)


def test_fast_growth_paths_match_the_slow_fits_distribution_on_real_data(kr):
    """Same model, other random draws: the year total's quantiles agree within noise."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = np.log(kr.values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slow = SARIMAX(y, order=(1, 0, 1), seasonal_order=(0, 1, 0, 12), trend="c").fit(disp=False)
    fast = get_model("growth").fit(kr)
    n = 4000
    slow_paths = np.exp(
        np.asarray(
            slow.simulate(12, repetitions=n, anchor="end", rng=np.random.default_rng(1))
        ).reshape(12, n)
    )
    slow_q = np.quantile(slow_paths.sum(axis=0), [0.1, 0.5, 0.9])
    fast_q = np.quantile(fast.sample_paths(12, n, seed=2).sum(axis=1), [0.1, 0.5, 0.9])
    np.testing.assert_allclose(fast_q, slow_q, rtol=0.01)


def test_prefetch_makes_the_next_months_learning_a_cache_read(kr, tmp_path, caplog):
    """Fits made ahead for the next month are the ones it then reads; the window of months
    known slides by one, so the next month needs one new month's fits of each past year;
    and the learning logs what it does."""
    through_feb = kr.through(parse_month("2026-02"))
    how = Learning(first_year=2022, cache_dir=tmp_path, jobs=1)
    feb = [get_model(name).fit(through_feb) for name in AUTO_MEMBERS]
    assert learn_now(through_feb, feb, get_model, how) is not None  # m = 0..4 fitted
    made = prefetch_next(through_feb, AUTO_MEMBERS, get_model, how)
    assert kernel_months(3) == [1, 2, 3, 4, 5]
    assert made == 4 * 1 * len(AUTO_MEMBERS)  # 2022-2025 at m = 5 only
    through_mar = kr.through(parse_month("2026-03"))
    fitted = [get_model(name).fit(through_mar) for name in AUTO_MEMBERS]
    seen: list[tuple[int, int]] = []
    learn_now(
        through_mar,
        fitted,
        get_model,
        Learning(2022, cache_dir=tmp_path, progress=lambda d, t: seen.append((d, t))),
    )
    assert seen == [(0, 0)]  # nothing left to fit
    with caplog.at_level(logging.INFO, logger="exportcast"):
        learned = learn_now(through_mar, fitted, get_model, how)
    assert learned is not None
    assert any("learned with data through 2026-03" in r.getMessage() for r in caplog.records)
    assert prefetch_next(through_feb, AUTO_MEMBERS, get_model, how) == 0  # already there


@pytest.mark.parametrize("name", ["sarima", "growth"])
def test_paths_drawn_at_once_have_the_models_predictive_mean_and_variance(kr, name):
    """The vectorised simulator against statsmodels' own forecast of the same fit."""
    from exportcast.models.families.statespace import simulate_from_end

    results = get_model(name).fit(kr)._results
    draws = simulate_from_end(results, 24, 40_000, np.random.default_rng(0))
    forecast = results.get_forecast(24)
    sd = np.sqrt(forecast.var_pred_mean)
    # The mean within 4 standard errors; the variance within 4% (its standard error is 0.7%).
    assert np.all(np.abs(draws.mean(axis=0) - forecast.predicted_mean) < 4 * sd / 200)
    np.testing.assert_allclose(draws.var(axis=0), forecast.var_pred_mean, rtol=0.04)
