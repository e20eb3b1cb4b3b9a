"""How far the model's month is trusted against a flash: two regimes, learned from the
model's own misses, and an update that leans on the flash when the two disagree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportcast.models.nowcast.condition import condition_paths
from exportcast.models.nowcast.ratio import MonthBelief
from exportcast.models.nowcast.trust import (
    LEARNED,
    Read,
    Trust,
    fit_trust,
    log_likelihood,
    trust_for,
)


def model_paths(n: int = 4000, level: float = 100.0, sd: float = 0.03) -> np.ndarray:
    rng = np.random.default_rng(1)
    first = np.log(level) + sd * rng.standard_normal(n)
    later = first[:, None] + 0.01 * rng.standard_normal((n, 5))
    return np.exp(np.column_stack([first, later]))


@settings(max_examples=60, deadline=None)
@given(
    wrong=st.floats(0.01, 0.6),
    widen=st.floats(1.5, 200.0),
    near=st.floats(0.0, 2.0),
    further=st.floats(0.1, 5.0),
    model_var=st.floats(1e-4, 0.05),
    flash_var=st.floats(1e-5, 0.05),
)
def test_the_further_the_flash_from_the_model_the_likelier_the_model_is_wrong(
    wrong, widen, near, further, model_var, flash_var
):
    trust = Trust(wrong, widen)
    sd = np.sqrt(model_var + flash_var)
    p_near = trust.regime_wrong(near * sd, model_var, flash_var)
    p_far = trust.regime_wrong((near + further) * sd, model_var, flash_var)
    assert 0.0 <= p_near <= p_far <= 1.0
    assert trust.regime_wrong(-near * sd, model_var, flash_var) == pytest.approx(p_near)
    assert Trust().regime_wrong(10 * sd, model_var, flash_var) == 0.0
    # A flash absurdly far from the model (a unit slip) is read as the model being wrong,
    # not a division of two underflowed densities.
    assert trust.regime_wrong(1e6 * sd, model_var, flash_var) == pytest.approx(1.0)


def months_drawn(n: int, wrong: float, widen: float, seed: int = 0) -> list[Read]:
    """Months whose truth the model is sure of, except in a share `wrong` of them where it
    is off by `widen` times its variance; each with a flash that reads the truth noisily."""
    rng = np.random.default_rng(seed)
    model_var, flash_var = 0.001, 0.0004
    off = rng.random(n) < wrong
    truth = rng.standard_normal(n) * np.sqrt(np.where(off, widen, 1.0) * model_var)
    reading = truth + rng.standard_normal(n) * np.sqrt(flash_var)
    return [
        Read(0.0, model_var, float(r), flash_var, float(y))
        for r, y in zip(reading, truth, strict=True)
    ]


def test_the_mixture_is_learned_back_from_months_drawn_from_it():
    reads = months_drawn(4000, 0.15, 20.0)
    fitted = fit_trust(reads)
    assert fitted.wrong == pytest.approx(0.15, abs=0.05)
    assert fitted.widen == pytest.approx(20.0, rel=0.4)
    assert log_likelihood(reads, fitted) > log_likelihood(reads, Trust()) + 50
    # Months the model's spread explains need no second regime.
    assert fit_trust(months_drawn(4000, 0.0, 1.0, seed=1)).wrong <= 0.05


def test_without_a_second_regime_the_update_is_the_gaussian_one():
    paths = model_paths()
    belief = MonthBelief(np.log(110.0), 0.02)
    out = condition_paths(paths, None, belief, np.random.default_rng(5), Trust())
    first = np.log(paths[:, 0])
    gain = first.var(ddof=1) / (first.var(ddof=1) + 0.02**2)
    reading = belief.draw(np.random.default_rng(5), len(paths))
    assert np.log(out[:, 0]) == pytest.approx(first + gain * (reading - first), abs=1e-9)


def test_a_flash_far_from_a_confident_model_is_believed():
    """The 2026 case: the model sure of about 100 for the month, the flash saying 120."""
    paths = model_paths(sd=0.03)
    belief = MonthBelief(np.log(120.0), 0.03)
    gaussian = condition_paths(paths, None, belief, np.random.default_rng(3), Trust())
    trusting = condition_paths(paths, None, belief, np.random.default_rng(3), Trust(0.1, 30.0))
    # The Gaussian update stops well short of the flash; the two-regime one almost reaches it.
    assert np.median(gaussian[:, 0]) < 112
    assert np.median(trusting[:, 0]) == pytest.approx(120.0, rel=0.02)
    low, high = np.percentile(trusting[:, 0], [10, 90])
    assert low < 120.0 < high
    # Later months follow their path's first month, as before.
    assert np.median(trusting[:, 3]) == pytest.approx(np.median(trusting[:, 0]), rel=0.02)
    # A flash that agrees with the model moves it as the Gaussian update does.
    agreeing = MonthBelief(np.log(101.0), 0.03)
    plain = condition_paths(paths, None, agreeing, np.random.default_rng(3), Trust())
    mixed = condition_paths(paths, None, agreeing, np.random.default_rng(3), Trust(0.1, 30.0))
    assert np.median(mixed[:, 0]) == pytest.approx(np.median(plain[:, 0]), rel=0.003)


def test_the_service_reads_a_1_20_flash_with_the_learned_trust_and_a_1_10_plainly():
    assert trust_for("d1_20") == LEARNED["d1_20"]
    assert trust_for("d1_20").wrong > 0 and trust_for("d1_20").widen > 1
    assert trust_for("d1_10") == Trust()
