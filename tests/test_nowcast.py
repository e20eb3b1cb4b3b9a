"""The nowcast: flashes read and checked, the ratio of full months to flashes learned, and
paths conditioned on what a flash says, on synthetic cases and on the bundled series."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportcast.models import totals
from exportcast.models.core import simulate
from exportcast.models.datasets import load_bundled_flashes
from exportcast.models.nowcast.calendar import working_days
from exportcast.models.nowcast.condition import condition_paths
from exportcast.models.nowcast.flashes import Flash, check_flash_rows, latest_for, parse_flash_csv
from exportcast.models.nowcast.ratio import MonthBelief, NotEnoughHistory, features, fit_ratio
from exportcast.models.nowcast.reading import read_latest
from exportcast.models.series import parse_month
from exportcast.models.validate import SeriesError


def test_working_days_know_korean_holidays():
    # February 2026: Lunar New Year on the 16th-18th (Mon-Wed); 20 weekdays, 17 working.
    feb = parse_month("2026-02")
    assert working_days(feb, 1, 28, None) == 20
    assert working_days(feb, 1, 28, "KR") == 17
    assert working_days(feb, 1, 10, "KR") == working_days(feb, 1, 10, None) == 7


def test_bundled_flashes_are_cumulative_and_complete():
    flashes = load_bundled_flashes()
    months = {f.month for f in flashes}
    assert min(months) == parse_month("2016-01") and max(months) == parse_month("2026-09")
    by_key = {(f.month, f.period): f.value for f in flashes}
    assert all(by_key[(m, "d1_20")] > by_key[(m, "d1_10")] for m in months)


def test_flash_rows_name_every_problem():
    rows = [
        (2, "2026-06", "d1_10", "30000"),
        (3, "2026-13", "d1_10", "1"),
        (4, "2026-06", "d1_15", "1"),
        (5, "2026-06", "d1_10", "31000"),
        (6, "2026-07", "d1_20", "nan"),
        (7, "2026-08", "d1_10", "40000"),
        (8, "2026-08", "d1_20", "39000"),
    ]
    with pytest.raises(SeriesError) as caught:
        check_flash_rows(rows)
    lines = {p.line: p.message for p in caught.value.problems}
    assert set(lines) == {3, 4, 5, 6, 8}
    assert "calendar month" in lines[3]
    assert "d1_10, d1_20" in lines[4]
    assert "repeated" in lines[5]
    assert "not finite" in lines[6]
    assert "below its d1_10" in lines[8]


def test_a_flash_csv_needs_its_columns():
    with pytest.raises(SeriesError, match="period"):
        parse_flash_csv("month,value\n2026-06,1\n")
    got = parse_flash_csv("\ufeffmonth,period,exports_usd_millions\n2026-06,d1_20,62000\n")
    assert got == [Flash(parse_month("2026-06"), "d1_20", 62000.0)]


def test_the_latest_flash_is_the_one_reaching_furthest():
    june = parse_month("2026-06")
    flashes = [Flash(june, "d1_10", 1.0), Flash(june, "d1_20", 2.0), Flash(june - 1, "d1_20", 3)]
    assert latest_for(flashes, june) == Flash(june, "d1_20", 2.0)
    assert latest_for(flashes, june + 1) is None


def synthetic_pairs(n: int, a: float, b: float, noise: float, seed: int = 0):
    """Flashes whose full month is a known function of working days, plus noise."""
    rng = np.random.default_rng(seed)
    pairs = []
    for k in range(n):
        month = parse_month("2010-01") + k
        flash = Flash(month, "d1_20", float(rng.uniform(20_000, 60_000)))
        x = features(flash, "KR")
        full = flash.value * math.exp(a + b * x[1] + rng.normal(0, noise))
        pairs.append((flash, full))
    return pairs


def test_the_ratio_recovers_how_months_relate_to_their_flash():
    pairs = synthetic_pairs(150, a=0.05, b=0.8, noise=0.02)
    ratio = fit_ratio(pairs, "d1_20", "KR")
    assert ratio.sigma == pytest.approx(0.02, rel=0.25)
    # The belief for new flashes is centred on the truth and as wide as the noise.
    test = synthetic_pairs(300, a=0.05, b=0.8, noise=0.02, seed=1)
    z = [(math.log(full) - ratio.belief(f).log_mean) / ratio.belief(f).log_sd for f, full in test]
    assert abs(np.mean(z)) < 0.2
    assert 0.8 < np.std(z) < 1.25


def test_the_ratio_needs_history():
    with pytest.raises(NotEnoughHistory, match="12 are needed"):
        fit_ratio(synthetic_pairs(11, 0.05, 0.8, 0.02), "d1_20", "KR")
    with pytest.raises(NotEnoughHistory):  # the other period has no history at all
        fit_ratio(synthetic_pairs(50, 0.05, 0.8, 0.02), "d1_10", "KR")


def random_walk_paths(n: int, horizon: int, sd: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.exp(10 + np.cumsum(rng.normal(0, sd, (n, horizon)), axis=1))


@settings(max_examples=40, deadline=None)
@given(
    shift=st.floats(-0.5, 0.5),
    reading_sd=st.floats(0.005, 0.5),
    seed=st.integers(0, 10_000),
)
def test_conditioning_moves_the_first_month_between_model_and_flash(shift, reading_sd, seed):
    paths = random_walk_paths(2000, 6, 0.08, seed)
    prior = np.log(paths[:, 0])
    belief = MonthBelief(float(prior.mean()) + shift, reading_sd)
    out = condition_paths(paths, None, belief, np.random.default_rng(seed))
    assert out.shape == paths.shape and np.all(out > 0) and np.all(np.isfinite(out))
    post = np.log(out[:, 0])
    gain = prior.var(ddof=1) / (prior.var(ddof=1) + reading_sd**2)
    # The posterior mean is the precision-weighted one; the spread shrinks as Bayes says.
    assert post.mean() == pytest.approx(prior.mean() + gain * shift, abs=0.01 + 0.05 * reading_sd)
    assert post.std() == pytest.approx(math.sqrt((1 - gain) * prior.var()), rel=0.1)
    # In a random walk a month's shock persists: later months move with the first.
    moved = np.log(out[:, -1]) - np.log(paths[:, -1])
    # (the slope is estimated from 2,000 paths: about 0.05 off, times the shift)
    jump = post.mean() - prior.mean()
    assert moved.mean() == pytest.approx(jump, abs=0.01 + 0.2 * abs(jump))


def test_conditioning_keeps_each_member_apart():
    a = random_walk_paths(1000, 3, 0.05, 1)
    b = random_walk_paths(1000, 3, 0.05, 2) * 1.5
    paths, labels = np.vstack([a, b]), np.repeat([0, 1], 1000)
    belief = MonthBelief(float(np.log(a[:, 0]).mean()), 0.05)
    out = condition_paths(paths, labels, belief, np.random.default_rng(0))
    # Each member moves towards the reading from where it was, keeping its own spread: a
    # member's paths are not pulled towards the other's.
    for label, block in ((0, a), (1, b)):
        prior, post = np.log(block[:, 0]), np.log(out[labels == label, 0])
        gain = prior.var(ddof=1) / (prior.var(ddof=1) + 0.05**2)
        expected = prior.mean() + gain * (belief.log_mean - prior.mean())
        assert post.mean() == pytest.approx(expected, abs=0.01)


def test_a_flash_with_too_little_history_is_named_not_used(kr):
    cut = kr.through(parse_month("2016-05"))
    flashes = [f for f in load_bundled_flashes() if f.month <= parse_month("2016-06")]
    reading = read_latest(cut, flashes, "KR")
    assert reading is not None and reading.belief is None
    assert "5 past months" in reading.reason
    assert read_latest(kr, load_bundled_flashes(), "KR") is None  # every flash superseded


def test_the_may_2026_flash_sharpens_the_month_and_the_year(kr):
    """Data through April 2026 and May's flashes: the month, and so the year's total, is
    surer with the flash, and nearer what was published ($87.8B)."""
    cut = kr.through(parse_month("2026-04"))
    flashes = [f for f in load_bundled_flashes() if f.month <= parse_month("2026-05")]
    without = simulate(cut, "sarima", years=1, n_paths=2000)
    with_flash = simulate(cut, "sarima", years=1, n_paths=2000, flashes=flashes, country="KR")
    used = with_flash.learned["flash"]
    assert used["month"] == "2026-05" and used["period"] == "d1_20" and used["used"]
    may_actual = float(kr.values[parse_month("2026-05") - kr.start])

    def width(values: np.ndarray) -> float:
        lo, hi = np.percentile(values, [10, 90])
        return hi - lo

    assert width(with_flash.paths[:, 0]) < 0.6 * width(without.paths[:, 0])
    # The flash moved the month towards what was published.
    before, after = used["month_before"]["median"], used["month_after"]["median"]
    assert abs(after - may_actual) < abs(before - may_actual)
    (year_without,) = totals.year_totals(without.paths, without.first_month, without.actual_to_date)
    (year_with,) = totals.year_totals(
        with_flash.paths, with_flash.first_month, with_flash.actual_to_date
    )
    assert np.std(year_with.totals) < np.std(year_without.totals)
    assert used["month_before"]["median"] == pytest.approx(float(np.median(without.paths[:, 0])))


def test_the_flash_backtest_looks_only_backwards(kr, tmp_path):
    """A month's nowcast is the same whatever that month and every later one turn out to
    be: its figure, its year's other months and later flashes are changed (by half) and
    the case at that month, for the month and the year, with auto's learned weights and
    calibration over two members, does not move. And on these real months the 1-20 flash
    makes the month's error smaller than no flash."""
    from exportcast.models.evaluation.nowcast import flash_backtest, summary
    from exportcast.models.registry import get_model
    from exportcast.models.series import MonthlySeries

    flashes = load_bundled_flashes()
    through = kr.through(parse_month("2019-12"))
    months = list(range(parse_month("2019-01"), parse_month("2019-07")))
    probe = parse_month("2019-04")

    def run(series, flash_list, at):
        return flash_backtest(
            series,
            flash_list,
            "KR",
            ("ets", "sarima"),
            get_model,
            at,
            n_paths=300,
            cache_dir=tmp_path,
            learn_from=2014,
        )

    whole = run(through, flashes, months)
    assert len(whole) == 18
    assert summary(whole, "d1_20")["month_mape"] < summary(whole, "none")["month_mape"]
    # The future rewritten: April 2019 and every month after it 50% higher, and the
    # flashes of May on too (April's own flashes are what its nowcast may use).
    values = through.values.copy()
    values[probe - through.start :] *= 1.5
    changed = MonthlySeries(through.id, through.unit, through.start, values)
    rewritten = [Flash(f.month, f.period, f.value * 1.5) if f.month > probe else f for f in flashes]
    # Walked to the probe (a 1-20 flash is read with the trust learned from the walk's
    # months before it, so those come too): nothing of the rewritten future reaches it.
    again = [
        c for c in run(changed, rewritten, [m for m in months if m <= probe]) if c.month == probe
    ]
    before = [c for c in whole if c.month == probe]
    assert [c.variant for c in again] == [c.variant for c in before] == ["none", "d1_10", "d1_20"]
    for a, b in zip(before, again, strict=True):
        assert a.month_median == b.month_median and a.month_intervals == b.month_intervals
        assert a.year_median == b.year_median and a.year_intervals == b.year_intervals
        assert a.weights == b.weights
        assert b.month_actual == 1.5 * a.month_actual  # the truth did change
