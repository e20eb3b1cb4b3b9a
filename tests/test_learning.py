"""The pieces `auto` learns with, on small examples where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportcast.models.calibration import calibrate_years
from exportcast.models.evaluation import learning
from exportcast.models.evaluation.scoring import Case, case_from_draws, score
from exportcast.models.prior import evidence
from exportcast.models.prior.posterior import posterior


def case(model: str, error: float, year: int = 2000, m: int = 0) -> Case:
    actual = 100.0
    return Case(model, year, m, actual, 0.0, actual * (1 + error), actual * (1 + error))


def test_skill_weights_favour_the_smaller_past_error():
    """Learning alone (no prior), weights go as MAPE^-2 over the cases near now's m."""
    past = {
        "good": [case("good", 0.01 * s, year=2000 + i) for i, s in enumerate((1, -1) * 4)],
        "bad": [case("bad", 0.02 * s, year=2000 + i) for i, s in enumerate((1, -1) * 4)],
    }
    own = evidence.from_cases(past, [])
    w = posterior(None, own, np.zeros(0), 0, ["good", "bad"]).weights
    assert w["good"] == pytest.approx(0.8)  # (1/1^2) / (1/1^2 + 1/2^2)
    assert w["bad"] == pytest.approx(0.2)
    # Cases at a months-known the kernel does not reach count for nothing: equal weights.
    assert posterior(None, own, np.zeros(0), 6, ["good", "bad"]).weights == {
        "good": 0.5,
        "bad": 0.5,
    }


def test_blend_keeps_weights_in_quiet_times_and_leans_away_after_a_break():
    prior = {"steady": 0.7, "adaptive": 0.3}
    quiet = learning.blend(prior, {"steady": np.array([0.5, -1, 0.8]), "adaptive": np.zeros(3)})
    assert not quiet.break_detected and quiet.weights == prior
    shock = learning.blend(
        prior, {"steady": np.array([3.0, 3.5, 3.2]), "adaptive": np.array([1.5, 0.4, 0.2])}
    )
    assert shock.break_detected
    assert shock.weights["adaptive"] > 0.95


def test_calibration_scale_recovers_a_known_overconfidence():
    """Intervals half as wide as they should be need a factor near 2."""
    rng = np.random.default_rng(1)
    cases = []
    for i in range(400):
        truth = rng.normal(0, 0.1)
        draws = 50 + 50 * np.exp(rng.normal(0, 0.05, 2000))  # claims sd 0.05 on the rest
        actual = 50 + 50 * np.exp(truth)
        cases.append(case_from_draws("m", 2000 + i, 3, actual, 50.0, draws))
    assert learning.calibration_scale(cases, 80) == pytest.approx(2.0, rel=0.2)
    assert learning.calibration_scale(cases[:3], 80) == 1.0  # too little history


@given(st.floats(0.2, 3.0), st.floats(0.0, 500.0), st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_calibration_widens_the_unknown_part_and_keeps_the_published_part(scale, ytd, seed):
    """`auto`'s calibration of its mixture's year totals (`calibrate_years`, what
    `auto_draws` applies in the backtest and the live fit): the year in progress's unknown
    part spreads `scale` times as far around its median on the log scale, the published
    part stays, and each later year moves with its path by the same factor."""
    rng = np.random.default_rng(seed)
    rest = np.exp(rng.normal(6, 0.2, 1001))
    first = ytd + rest
    later = first * np.exp(rng.normal(0.05, 0.1, (2, 1001)))
    out = calibrate_years(np.vstack([first, later]), ytd, scale)
    assert out.shape == (3, 1001)
    assert np.all(out[0] > ytd)
    assert np.median(out[0]) == pytest.approx(np.median(first), rel=1e-9)
    spread = np.subtract(*np.percentile(np.log(out[0] - ytd), [90, 10]))
    before = np.subtract(*np.percentile(np.log(rest), [90, 10]))
    assert spread == pytest.approx(scale * before, rel=1e-6)
    factor = (out[0] - ytd) / rest  # each path's factor, from the year in progress
    np.testing.assert_allclose(out[1:], later * factor, rtol=1e-9)


def test_mixture_draws_in_proportion():
    draws = {"a": np.zeros(1000), "b": np.ones(1000)}
    mixed = learning.mixture(draws, {"a": 0.25, "b": 0.75}, 400)
    assert len(mixed) == 400 and mixed.sum() == 300


def test_scores_by_hand():
    cases = [
        Case("m", 2000, 0, 100.0, 0.0, 110.0, 110.0, {80: (90.0, 120.0), 95: (80.0, 130.0)}),
        Case("m", 2001, 0, 100.0, 0.0, 105.0, 105.0, {80: (102.0, 120.0), 95: (101.0, 130.0)}),
    ]
    s = score(cases, "m", "0")
    assert s.mape == pytest.approx(7.5)
    assert s.bias == pytest.approx(7.5)
    assert s.coverage == {80: 0.5, 95: 0.5}
    # Winkler: the width, plus 2/alpha times the miss: 50, and 29 + 40 * 1.
    assert s.winkler95 == pytest.approx((50 + 29 + 40) / 2)
