"""The pace a target needs, checked by arithmetic on the real series and by properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportcast.models.pace import History, pace, trailing_totals
from exportcast.models.series import MonthlySeries


@pytest.mark.parametrize("back", [0, 1, 4, 8, 11])
def test_the_months_left_at_the_pace_reach_the_target_exactly(kr, back):
    series = kr.through(kr.end - back)
    year = (series.end + 1) // 12
    p = pace(series, year, 1_000_000.0)
    known, published = series.year_to_date(year)
    assert published + p.per_month * (12 - known) == pytest.approx(1_000_000.0)
    # the same months a year earlier, grown by the growth needed, give what is needed
    first = year * 12 + known - 12 - series.start
    before = series.values[first : first + 12 - known].sum()
    assert before * (1 + p.growth_same_months) == pytest.approx(p.needed)
    # the twelve-month total grown at the yearly pace for the months left hits the target
    latest = series.values[-12:].sum()
    assert latest * (1 + p.growth_per_year) ** (p.months_left / 12) == pytest.approx(1_000_000.0)


def test_a_later_year_has_no_same_months_and_needs_the_whole_target(kr):
    year = (kr.end + 1) // 12 + 3
    p = pace(kr, year, 1_000_000.0, probability=0.4)
    assert p.needed == 1_000_000.0 and p.per_month == pytest.approx(1_000_000.0 / 12)
    assert p.growth_same_months is None
    assert p.months_left == year * 12 + 11 - kr.end
    assert p.probability == 0.4


def test_a_published_year_has_no_pace(kr):
    with pytest.raises(ValueError, match="published in full"):
        pace(kr, 2020, 1_000_000.0)


def test_history_counts_the_windows_that_grew_that_fast_by_brute_force():
    values = np.array([100.0 + 3 * i + 10 * np.sin(i) for i in range(60)])
    series = MonthlySeries("x", "u", 2000 * 12, values)
    totals = [values[i : i + 12].sum() for i in range(49)]
    for months, factor in ((6, 1.1), (12, 1.2), (24, 1.5)):
        share, windows = History(series).share(months, factor)
        hits = [totals[i + months] / totals[i] >= factor for i in range(49 - months)]
        assert windows == len(hits) and share == pytest.approx(np.mean(hits))


@settings(max_examples=60, deadline=None)
@given(months=st.integers(1, 400), factor=st.floats(0.3, 4.0))
def test_a_kept_history_answers_as_a_fresh_count_of_the_windows(kr, months, factor):
    """A version keeps its history sorted once; each pace is a lookup with the same share."""
    kept = History(kr)
    totals = trailing_totals(kr)
    share, windows = kept.share(months, factor)
    if len(totals) <= months:
        assert (share, windows) == (None, 0)
        return
    ratios = totals[months:] / totals[:-months]
    assert windows == len(ratios) and share == float(np.mean(ratios >= factor))
    # A ratio exactly at the factor counts as reached.
    assert kept.share(months, float(ratios[0]))[0] == float(np.mean(ratios >= ratios[0]))
    assert pace(kr, 2030, 1e6, history=kept) == pace(kr, 2030, 1e6)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.5, 3.0), st.floats(0.5, 3.0))
def test_a_higher_target_needs_more_and_was_reached_no_more_often(kr, low, high):
    low, high = sorted((low, high))
    year = (kr.end + 1) // 12 + 1
    base = kr.values[-12:].sum()
    a, b = pace(kr, year, low * base), pace(kr, year, high * base)
    assert a.growth_per_year <= b.growth_per_year
    assert a.history_share >= b.history_share
