"""Multi-year totals: the calibration of later years, the annual baselines, the scores of
target probabilities, and the backtest's walk without look-ahead, on real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportcast.models import totals
from exportcast.models.calibration import YearStep, calibrate_paths, calibrate_years
from exportcast.models.datasets import load_bundled
from exportcast.models.evaluation.horizons import (
    baseline_draws,
    brier,
    horizon_backtest,
    parse_horizons,
    pool,
    reliability,
)
from exportcast.models.evaluation.origins import Origin
from exportcast.models.evaluation.scoring import Case
from exportcast.models.prior import evidence
from exportcast.models.prior.pooled import shipped
from exportcast.models.prior.posterior import growth_share
from exportcast.models.registry import get_model
from exportcast.models.series import MonthlySeries

steps = st.lists(
    st.builds(YearStep, st.floats(0.0, 1.0), st.floats(0.3, 2.5), st.floats(0.0, 3.0)),
    min_size=0,
    max_size=4,
)


@given(
    st.integers(0, 11),
    st.floats(0.3, 2.5),
    steps,
    st.integers(0, 2**32 - 1),
)
@settings(max_examples=60, deadline=None)
def test_calibrated_paths_have_the_calibrated_year_totals(m, scale, year_steps, seed):
    """What the backtest measures (totals calibrated) is what is served (paths calibrated)."""
    rng = np.random.default_rng(seed)
    months_left = 12 - m
    horizon = totals.months_needed(2026 * 12 + m, 5)
    paths = np.exp(rng.normal(0, 0.3, (301, horizon)).cumsum(axis=1) * 0.1 + 4)
    ytd = 40.0 * m
    raw = np.stack([y.totals for y in totals.year_totals(paths, 2026 * 12 + m, ytd)])
    served = calibrate_paths(paths, months_left, scale, year_steps, ytd)
    got = np.stack([y.totals for y in totals.year_totals(served, 2026 * 12 + m, ytd)])
    np.testing.assert_allclose(got, calibrate_years(raw, ytd, scale, year_steps), rtol=1e-9)
    assert np.all(served > 0)


def test_a_growth_step_moves_a_later_year_towards_the_first_years_median():
    rng = np.random.default_rng(0)
    first = 1000 * np.exp(rng.normal(0, 0.05, 2001))
    later = 1500 * np.exp(rng.normal(0, 0.2, 2001))  # the members: +50% after the first year
    out = calibrate_years(np.stack([first, later]), 0.0, 1.0, [YearStep(growth=0.5)])
    anchor = np.median(first)
    assert np.median(out[1]) == pytest.approx(anchor * np.sqrt(np.median(later) / anchor))
    kept = calibrate_years(np.stack([first, later]), 0.0, 1.0, [YearStep(growth=0.0)])
    assert np.median(kept[1]) == pytest.approx(anchor)
    assert np.std(np.log(kept[1])) == pytest.approx(np.std(np.log(later)))  # spread is kept


@given(st.floats(0.3, 2.5), st.floats(0.0, 3.0), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_tails_are_widened_to_the_95_percent_factor_and_never_narrowed(inner, outer, seed):
    values = np.exp(np.random.default_rng(seed).standard_t(5, 4001) * 0.1 + 3)
    out = YearStep(spread=inner, tail=outer).widen(values)
    logs = np.log(values)
    before = np.abs(logs - np.median(logs))
    after = np.abs(np.log(out) - np.median(np.log(out)))
    assert np.percentile(after, 80) == pytest.approx(inner * np.percentile(before, 80), rel=1e-2)
    factor = max(inner, outer)
    assert np.percentile(after, 95) == pytest.approx(factor * np.percentile(before, 95), rel=1e-2)
    assert np.array_equal(np.argsort(out, kind="stable"), np.argsort(values, kind="stable"))
    assert np.median(out) == pytest.approx(np.median(values))


def horizon_case(projected: float, actual: float, anchor: float = 100.0) -> Case:
    median = anchor * np.exp(projected)
    return Case(
        "m",
        2000,
        0,
        anchor * np.exp(actual),
        0.0,
        median,
        median,
        {80.0: (median * 0.9, median * 1.1), 95.0: (median * 0.85, median * 1.15)},
        horizon=3,
        anchor=anchor,
    )


def test_the_growth_shrink_recovers_how_much_projected_growth_came_true():
    rng = np.random.default_rng(3)
    projected = rng.normal(0.1, 0.2, 200)
    cases = [horizon_case(x, 0.4 * x + rng.normal(0, 0.01)) for x in projected]

    def share(cases: list[Case], prior=None) -> float:
        return growth_share(prior, evidence.from_cases({}, cases), 0)

    assert share(cases) == pytest.approx(0.4, abs=0.02)
    assert share([]) == 1.0  # learning alone, nothing to learn from
    contrary = [horizon_case(x, -x) for x in projected]
    assert share(contrary) == 0.0  # clipped to [0, 1]
    # With the prior, a few cases of its own move the share little, many move it all the way.
    prior = shipped()
    few = share(cases[:2], prior)
    assert abs(few - prior.growth[0]) < abs(few - 0.4)
    assert share(cases * 20, prior) == pytest.approx(0.4, abs=0.03)


def annual(values: list[float], start_year: int = 2000) -> MonthlySeries:
    monthly = np.repeat(np.asarray(values) / 12, 12)
    return MonthlySeries("t", "USD", start_year * 12, monthly)


def test_the_annual_baselines_on_a_series_with_known_growth():
    growth = np.array([0.1, -0.05, 0.2, 0.0, 0.05, 0.1, -0.1, 0.15, 0.05, 0.0, 0.1, 0.02])
    values = list(100 * np.exp(np.concatenate([[0], np.cumsum(growth)])))
    series = annual(values)
    origin = Origin(2013, 0)  # the 13 complete years 2000-2012 are known
    for h in (1, 3):
        draws = baseline_draws(series, origin, h)
        last = values[-1]
        assert np.median(draws["flat"]) == pytest.approx(last, rel=1e-3)
        assert np.median(draws["cagr10"]) == pytest.approx(
            last * np.exp(h * growth[-10:].mean()), rel=1e-3
        )
        assert np.median(draws["rw_drift"]) == pytest.approx(
            last * np.exp(h * growth.mean()), rel=1e-3
        )
    one, five = baseline_draws(series, origin, 1), baseline_draws(series, origin, 5)
    for name in one:
        assert np.std(np.log(five[name])) > 2 * np.std(np.log(one[name]))  # ~ sqrt(5)
    assert baseline_draws(annual(values[:3]), Origin(2003, 0), 1) == {}


def test_brier_and_reliability_count_each_threshold():
    sure = Case("m", 2001, 0, 120.0, 0.0, 120, 120, last_total=100.0,
                probabilities={1.0: 1.0, 1.5: 0.0})  # fmt: skip
    wrong = Case("m", 2001, 0, 120.0, 0.0, 80, 80, last_total=100.0,
                 probabilities={1.0: 0.0, 1.5: 1.0})  # fmt: skip
    assert brier([sure]) == 0.0
    assert brier([wrong]) == 1.0
    assert brier([sure, wrong]) == 0.5
    bins = reliability([sure, wrong], bins=2)
    assert [(b.n, b.predicted, b.observed) for b in bins] == [(2, 0.0, 0.5), (2, 1.0, 0.5)]


def test_parse_horizons():
    assert parse_horizons("1-5") == [1, 2, 3, 4, 5]
    assert parse_horizons("1,3") == [1, 3]
    for bad in ("0-2", "1-6", "a", "1-x", ""):
        with pytest.raises(ValueError):
            parse_horizons(bad)


def short_backtest(series: MonthlySeries, cache: Path):
    """Two fast members, origins 2007 on at two months known: seconds, on real data."""
    return horizon_backtest(
        series, ["growth", "snaive"], get_model, from_year=2007, months=[0, 6], n_paths=300,
        cache_dir=cache,
    )  # fmt: skip


@pytest.fixture(scope="module")
def short_run(fit_cache):
    series = load_bundled().through(2014 * 12 + 11)
    return series, short_backtest(series, fit_cache / "horizons")


def test_the_multi_year_backtest_scores_every_horizon_on_real_data(short_run):
    series, report = short_run
    assert set(report.models()) >= {"auto", "auto_raw", "growth", "snaive", "flat", "rw_drift"}
    for h in range(1, 6):
        cases = report.select("auto", h)
        # Origins 2007-2014 whose horizon year is complete by 2014, at two months known.
        assert len(cases) == 2 * (2014 - 2007 - h + 2)
        for c in cases:
            assert c.year == c.origin_year + h - 1
            assert c.actual == pytest.approx(series.year_to_date(c.year)[1])
            assert set(c.probabilities) == {1.0, 1.1, 1.25, 1.5, 2.0}
    both = pool([report, report])
    assert both.score("auto", 2).score.n == 2 * report.score("auto", 2).score.n


def test_a_horizon_case_does_not_see_the_future(short_run, fit_cache):
    """Rewriting everything after 2009-12 leaves every projection made at origin 2010
    where it was (the actuals of its later years change, the medians may not)."""
    series, report = short_run
    values = series.values.copy()
    cut = 2010 * 12 - series.start
    values[cut:] *= 1.3
    changed = MonthlySeries(series.id, series.unit, series.start, values, series.name)
    other = short_backtest(changed, fit_cache / "horizons")
    for h in range(1, 6):
        for model in ("auto", "growth", "flat", "rw_drift"):
            at = {(c.origin_year, c.m): c for c in report.select(model, h)}
            moved = {(c.origin_year, c.m): c for c in other.select(model, h)}
            before, after = at.get((2010, 0)), moved.get((2010, 0))
            if before is None:
                continue
            assert after.median == pytest.approx(before.median, rel=1e-9), (model, h)
            assert after.actual != pytest.approx(before.actual)
        # An origin after the rewrite does see it.
        late = [c for c in other.select("auto", h) if c.origin_year >= 2011]
        early = {(c.origin_year, c.m): c for c in report.select("auto", h)}
        assert all(c.median != pytest.approx(early[(c.origin_year, c.m)].median) for c in late)
