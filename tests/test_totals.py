"""Properties of the step from monthly sample paths to calendar-year totals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from exportcast.models import totals

positive = st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def scenario(draw):
    n_paths = draw(st.integers(1, 40))
    first_month = draw(st.integers(2000 * 12, 2030 * 12))
    years = draw(st.integers(1, 4))
    extra = draw(st.integers(0, 11))
    horizon = totals.months_needed(first_month, years) + extra
    paths = draw(arrays(np.float64, (n_paths, horizon), elements=positive))
    observed = first_month % 12
    actual = draw(positive) * observed  # zero when nothing of the year is published
    return paths, first_month, actual, years


@given(scenario())
@settings(max_examples=200, deadline=None)
def test_published_months_are_facts_in_every_path(case):
    paths, first_month, actual, _years = case
    draws = totals.year_totals(paths, first_month, actual)
    first = draws[0]
    assert first.year == first_month // 12
    assert first.months_observed == first_month % 12
    remaining = 12 - first.months_observed
    np.testing.assert_allclose(first.totals - actual, paths[:, :remaining].sum(axis=1))
    # Later years have nothing published and sum exactly twelve path months.
    for i, later in enumerate(draws[1:]):
        start = remaining + 12 * i
        assert later.months_observed == 0 and later.actual_to_date == 0
        np.testing.assert_allclose(later.totals, paths[:, start : start + 12].sum(axis=1))


@given(scenario())
@settings(max_examples=200, deadline=None)
def test_only_whole_years_are_returned_and_years_are_consecutive(case):
    paths, first_month, actual, years = case
    draws = totals.year_totals(paths, first_month, actual)
    assert len(draws) >= years
    assert [d.year for d in draws] == list(range(first_month // 12, first_month // 12 + len(draws)))
    used = sum(12 - d.months_observed for d in draws)
    assert used <= paths.shape[1] < used + 12
    assert len(totals.year_totals(paths, first_month, actual, years)) == years


@given(
    arrays(np.float64, st.integers(2, 300), elements=positive),
    st.lists(st.floats(1, 99), min_size=2, max_size=5, unique=True),
)
@settings(max_examples=200, deadline=None)
def test_intervals_are_nested_as_the_level_grows(draws, levels):
    bands = totals.intervals(draws, sorted(levels))
    ordered = [bands[lv] for lv in sorted(levels)]
    for (lo_a, hi_a), (lo_b, hi_b) in itertools.pairwise(ordered):
        assert lo_b <= lo_a <= hi_a <= hi_b


@given(
    arrays(np.float64, st.integers(1, 300), elements=positive),
    st.lists(positive, min_size=2, max_size=6),
)
@settings(max_examples=200, deadline=None)
def test_probabilities_are_in_unit_range_and_fall_as_the_target_rises(draws, targets):
    probs = [totals.prob_at_least(draws, t) for t in sorted(targets)]
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert all(a >= b for a, b in itertools.pairwise(probs))


@given(scenario(), positive)
@settings(max_examples=200, deadline=None)
def test_crossing_year_distribution_adds_to_one_and_agrees_with_paths(case, target):
    paths, first_month, actual, years = case
    draws = totals.year_totals(paths, first_month, actual, years)
    dist = totals.crossing_years(draws, target)
    assert sum(dist.values()) == pytest.approx(1.0)
    assert set(dist) == {d.year for d in draws} | {totals.LATER}
    # Reaching the target in the first year is exactly P(first year >= target).
    assert dist[draws[0].year] == pytest.approx(totals.prob_at_least(draws[0].totals, target))
    # The chance of having crossed by year k is at least the chance of year k itself.
    cumulative = 0.0
    for d in draws:
        cumulative += dist[d.year]
        assert cumulative + 1e-12 >= totals.prob_at_least(d.totals, target)


@given(scenario(), positive)
@settings(max_examples=200, deadline=None)
def test_first_crossings_made_once_give_the_same_distribution_for_any_years(case, target):
    paths, first_month, actual, years = case
    draws = totals.year_totals(paths, first_month, actual, years)
    once = totals.FirstCrossings(draws)
    for k in range(len(draws) + 1):
        assert once.distribution(target, k) == first_years_path_by_path(draws[:k], target)
    # A target some path reaches exactly in a year counts as reached, as `>=` says.
    hit = float(draws[-1].totals[0])
    for k in range(1, len(draws) + 1):
        assert once.distribution(hit, k) == first_years_path_by_path(draws[:k], hit)


def first_years_path_by_path(draws, target: float) -> dict:
    """The first year each path reaches `target`, counted directly."""
    if not draws:
        return {totals.LATER: 1.0}
    reached = np.stack([d.totals >= target for d in draws])
    ever, first, n = reached.any(axis=0), np.argmax(reached, axis=0), reached.shape[1]
    out = {d.year: float(np.sum(ever & (first == i)) / n) for i, d in enumerate(draws)}
    out[totals.LATER] = float(np.sum(~ever) / n)
    return out


def test_year_interval_is_narrower_than_summed_monthly_bounds():
    """Independent monthly noise partly cancels in a sum; adding bounds ignores that."""
    rng = np.random.default_rng(7)
    paths = 100 + rng.normal(0, 10, size=(20_000, 12))
    (year,) = totals.year_totals(paths, 2027 * 12, 0.0, years=1)
    low, high = totals.intervals(year.totals, [95])[95]
    monthly_low, monthly_high = totals.SortedDraws(paths).central_interval(95)
    summed_low, summed_high = monthly_low.sum(), monthly_high.sum()
    assert high - low < 0.4 * (summed_high - summed_low)  # about 1/sqrt(12) here
    assert summed_low < low < high < summed_high


def test_first_year_p50():
    assert totals.first_year_p50({2026: 0.2, 2027: 0.5, 2028: 0.9}) == 2027
    assert totals.first_year_p50({2026: 0.2, 2027: 0.4}) is None


def test_months_needed():
    assert totals.months_needed(2026 * 12 + 5, 5) == 7 + 48  # data through May
    assert totals.months_needed(2027 * 12, 1) == 12  # data through December


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    columns=st.integers(1, 5),
    q=st.floats(0, 100),
    seed=st.integers(0, 10_000),
)
def test_sorted_draws_give_numpys_percentiles_to_the_bit(n, columns, q, seed):
    from exportcast.models.totals import SortedDraws

    draws = np.exp(np.random.default_rng(seed).normal(10, 1, (n, columns)))
    # Full float64 draws, and draws a stored version holds (float32 values, kept narrow).
    for values in (draws, draws.astype(np.float32).astype(float)):
        ordered = SortedDraws(values)
        assert np.array_equal(ordered.percentile(q), np.percentile(values, q, axis=0))
        assert np.array_equal(ordered.median(), np.median(values, axis=0))
    assert SortedDraws(draws.astype(np.float32).astype(float)).values.dtype == np.float32
    one = SortedDraws(draws[:, 0])
    for target in draws[:, 0]:
        assert one.share_at_least(target) == float(np.mean(draws[:, 0] >= target))


def test_summaries_read_from_sorted_paths_match_a_direct_computation():
    from exportcast.models.simulation import Simulation, summarise

    rng = np.random.default_rng(3)
    paths = np.exp(rng.normal(10, 0.1, (801, 7 + 24)))
    sim = Simulation("s", "u", "m", ("m",), "", 2026 * 12 + 4, 1000.0, paths)
    target = float(np.median(paths[:, 7:19].sum(axis=1)))  # the second year's: P near 1/2
    got = summarise(sim, years=3, levels=(50, 80, 95), targets=(target,))
    probabilities = []
    for y, start, stop in ((got.years[0], 0, 7), (got.years[1], 7, 19), (got.years[2], 19, 31)):
        year = paths[:, start:stop].sum(axis=1) + (1000.0 if start == 0 else 0.0)
        assert y.median == float(np.median(year))
        assert y.intervals[80.0] == tuple(float(v) for v in np.percentile(year, [10, 90]))
        assert y.prob_at_least[target] == float(np.mean(year >= target))
        probabilities.append(y.prob_at_least[target])
    assert 0.4 < probabilities[1] < 0.6 and probabilities[0] < 0.05  # seven months: short
    months = got.monthly  # as served: to 3 decimals
    assert len(months) == 31
    assert months[5].median == round(float(np.median(paths[:, 5])), 3)
    assert months[30].intervals[95.0] == tuple(
        round(float(v), 3) for v in np.percentile(paths[:, 30], [2.5, 97.5])
    )


# -- rounding as served --------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    arrays(
        np.float64,
        st.integers(0, 50),
        elements=st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(0, 1e7),
            # ties and near-ties of the third decimal, as float32 paths make them
            st.integers(0, 10**9).map(lambda n: n / 1000 + 0.0005),
            st.floats(0, 1e6, width=32).map(float),
        ),
    ),
    st.sampled_from([3, 4]),
)
def test_rounded_is_pythons_round(values, digits):
    from exportcast.models.simulation import rounded

    ours = rounded(values, digits)
    theirs = [round(v, digits) for v in values.tolist()]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert (a == b and str(a) == str(b)) or (np.isnan(a) and np.isnan(b))


def test_month_table_keeps_a_bounded_number_of_levels():
    from exportcast.models.simulation import MonthTable

    class Paths:  # only what MonthTable reads of a simulation
        sorted_months = totals.SortedDraws(np.random.default_rng(0).lognormal(size=(200, 24)))
        first_month = 2026 * 12
        horizon = 24

    table = MonthTable(Paths())  # type: ignore[arg-type]
    first = table.band(80.0)
    for level in range(1, MonthTable.BANDS + 5):
        table.band(float(level))
    assert len(table._bands) == MonthTable.BANDS
    assert table.band(80.0) == first  # made again, the same


# -- a version's years as parts, made once per level and target ---------------------------
def _mixture():
    """Paths of a two-member mixture from October, with 36 published months before them."""
    from exportcast.models.simulation import Simulation

    rng = np.random.default_rng(4)
    paths = (50_000 * np.exp(np.cumsum(rng.normal(0.004, 0.03, (400, 120)), axis=1))).astype(
        np.float32
    )
    published = 50_000 * np.exp(np.cumsum(rng.normal(0.004, 0.03, 36)))
    learned = {"expected_error_by_horizon": [{"m": 9, "n": 12, "mape_pct": 3.1}]}
    return Simulation(
        "s", "USD mn", "auto", ("ets", "theta"), "d", 2026 * 12 + 8, 450_000.0, paths,
        labels=rng.integers(0, 2, 400), learned=learned, published=published,
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    years=st.integers(1, 10),
    levels=st.lists(st.floats(1, 99.9), min_size=1, max_size=6),
    targets=st.lists(st.floats(1e5, 3e6), max_size=10),
    member=st.sampled_from([None, "ets", "theta"]),
)
def test_year_parts_are_summarise_to_the_number(years, levels, targets, member):
    from exportcast.models import limits
    from exportcast.models.simulation import summarise
    from exportcast.models.year_parts import year_parts

    sim = MIXTURE if member is None else MIXTURE.only(member)
    levels, targets = limits.check_levels(levels), limits.check_targets(targets)
    forecast = summarise(sim, years, levels, targets)
    parts = year_parts(sim)
    assert parts.years(years, levels, targets) == [y.to_dict() for y in forecast.years]
    assert parts.outlooks(years, targets) == [t.to_dict() for t in forecast.targets]


MIXTURE = _mixture()
