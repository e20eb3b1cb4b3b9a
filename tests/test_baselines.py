from __future__ import annotations

import pytest

from exportcast.models.evaluation.baselines import run_rate, seasonal_naive, ytd_growth
from exportcast.models.series import parse_month


def test_baselines_by_hand(kr):
    through_march = kr.through(parse_month("2025-03"))
    _m, _ytd = kr.year_to_date(2025)
    jan_mar = sum(kr.values[parse_month("2025-01") - kr.start : parse_month("2025-04") - kr.start])
    last = kr.year_to_date(2024)[1]
    jan_mar_2024 = sum(
        kr.values[parse_month("2024-01") - kr.start : parse_month("2024-04") - kr.start]
    )
    apr_dec_2024 = last - jan_mar_2024
    assert run_rate(through_march) == pytest.approx(jan_mar * 4)
    assert ytd_growth(through_march) == pytest.approx(last * jan_mar / jan_mar_2024)
    assert seasonal_naive(through_march) == pytest.approx(jan_mar + apr_dec_2024)


def test_with_nothing_of_the_year_published_every_baseline_is_last_year(kr):
    december = kr.through(parse_month("2024-12"))
    last = kr.year_to_date(2024)[1]
    for baseline in (run_rate, ytd_growth, seasonal_naive):
        assert baseline(december) == pytest.approx(last)
