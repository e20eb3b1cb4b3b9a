from __future__ import annotations

import numpy as np
import pytest

from exportcast.models import registry
from exportcast.models.calibration import calibrate_paths
from exportcast.models.core import fit_auto, simulate
from exportcast.models.ensemble import allocate
from exportcast.models.families import prophet as prophet_model
from exportcast.models.families.base import ModelError
from exportcast.models.prior.pooled import kernel_months
from exportcast.models.registry import get_model
from exportcast.models.series import MonthlySeries, format_month
from exportcast.models.simulation import summarise

SINGLE = sorted(registry.SINGLE)


@pytest.fixture(scope="module")
def fitted(kr, learning):
    return {name: get_model(name).fit(kr) for name in SINGLE} | {"auto": fit_auto(kr, learning)}


@pytest.mark.parametrize("name", [*SINGLE, "auto"])
def test_paths_have_the_asked_shape_are_positive_and_repeat_for_a_seed(fitted, name):
    model = fitted[name]
    a = model.sample_paths(30, 200, seed=11)
    b = model.sample_paths(30, 200, seed=11)
    c = model.sample_paths(30, 200, seed=12)
    assert a.shape == (200, 30)
    assert np.all(np.isfinite(a)) and np.all(a > 0)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", [*SINGLE, "auto"])
def test_paths_continue_from_the_last_months_on_real_data(fitted, kr, name):
    """The first simulated month sits within a plausible band of the last year's level."""
    paths = fitted[name].sample_paths(12, 500, seed=1)
    first_median = float(np.median(paths[:, 0]))
    recent = kr.values[-12:]
    assert 0.6 * recent.min() < first_median < 1.6 * recent.max()
    # Uncertainty grows with the horizon, as it should for any of these models.
    spread = np.log(paths).std(axis=0)
    assert spread[-1] > spread[0]


def test_auto_learns_its_weights_and_calibration_from_the_past(fitted):
    auto = fitted["auto"]
    assert auto.members == ("ets", "sarima", "growth", "theta")
    weights = auto.weights
    assert sum(weights.values()) == pytest.approx(1.0)
    assert all(w > 0 for w in weights.values())
    assert len({round(w, 3) for w in weights.values()}) > 1  # learned, not equal
    learned = auto.learned
    assert 0.3 < learned["calibration_scale"] < 3
    expected = learned["expected_error"]
    assert expected["m"] == 9 and expected["n"] >= 10 and expected["years"][1] == 2025
    assert 0 < expected["mape_pct"] < 20
    by_m = learned["backtest"]["mape_pct_by_m"]
    # The months known around 9 whose cases the kernel counts, nothing beyond them.
    assert set(by_m) == {"auto", "ets", "sarima", "growth", "theta"}
    assert set(by_m["auto"]) == {str(m) for m in kernel_months(9)} == {"7", "8", "9", "10", "11"}


def test_without_learning_auto_mixes_equally(synthetic_series):
    fitted = get_model("auto").fit(synthetic_series)
    assert fitted.weights == pytest.approx(dict.fromkeys(fitted.members, 1 / len(fitted.members)))
    assert len(fitted.members) == 4
    assert fitted.scale == 1.0


def test_auto_runs_without_prophet(monkeypatch, synthetic_series):
    monkeypatch.setattr(prophet_model, "available", lambda: False)
    fitted = get_model("auto", members=("ets", "prophet", "growth")).fit(synthetic_series)
    assert fitted.members == ("ets", "growth")
    with pytest.raises(ModelError, match="not installed"):
        get_model("prophet").fit(synthetic_series)


def test_prophet_joins_auto_when_asked_and_installed(synthetic_series):
    fitted = get_model("auto", members=("ets", "prophet")).fit(synthetic_series)
    assert fitted.members == ("ets", "prophet")


def test_ensemble_leaves_out_a_member_that_cannot_fit():
    short = MonthlySeries("short", "u", 2020 * 12, np.linspace(100, 140, 40))
    sim = simulate(short, "auto", years=1, n_paths=200)
    assert "sarima" not in sim.members  # SARIMA needs 48 months
    assert "sarima" in sim.learned["skipped"]


def test_calibration_rescales_the_unknown_part_around_its_median():
    rng = np.random.default_rng(0)
    paths = np.exp(rng.normal(10, 0.1, size=(4000, 20)))
    for scale in (0.5, 1.0, 2.0):
        out = calibrate_paths(paths, months_left=7, scale=scale)
        log_rest = np.log(paths[:, :7].sum(axis=1))
        new_rest = np.log(out[:, :7].sum(axis=1))
        assert np.median(new_rest) == pytest.approx(np.median(log_rest), abs=1e-3)
        spread = np.subtract(*np.percentile(new_rest, [90, 10]))
        before = np.subtract(*np.percentile(log_rest, [90, 10]))
        assert spread == pytest.approx(scale * before, rel=1e-6)
        # Later months move with their path: a path's level stays continuous.
        ratio = out / paths
        np.testing.assert_allclose(ratio, ratio[:, :1] * np.ones((1, 20)))


def test_unknown_model_is_named():
    with pytest.raises(KeyError, match="unknown model 'xgb'"):
        get_model("xgb")


@pytest.mark.parametrize(("n", "weights"), [(10, [1, 1, 1]), (2000, [0.5, 0.3, 0.2]), (7, [3, 0])])
def test_allocate_hands_out_every_path(n, weights):
    counts = allocate(n, weights)
    assert sum(counts) == n
    assert all(c >= 0 for c in counts)


def test_simulation_summary_on_real_data(kr):
    sim = simulate(kr, "ets", years=5, n_paths=1000, seed=3)
    assert format_month(sim.data_through) == "2026-09"
    assert sim.horizon == 3 + 48
    result = summarise(sim, years=5, levels=(80, 95), targets=(700_000, 1_000_000))
    first = result.years[0]
    assert first.year == 2026 and first.months_observed == 9
    assert first.actual_to_date == pytest.approx(kr.year_to_date(2026)[1])
    # Every path's 2026 total contains the published Jan-Sep, so no total is below them.
    assert first.intervals[95][0] > first.actual_to_date
    lo80, hi80 = first.intervals[80]
    lo95, hi95 = first.intervals[95]
    assert lo95 <= lo80 <= first.median <= hi80 <= hi95
    assert [y.year for y in result.years] == [2026, 2027, 2028, 2029, 2030]
    assert len(result.monthly) == 51
    # Fewer calendar years can be read from the same paths; more cannot.
    assert len(summarise(sim, years=2).years) == 2
    with pytest.raises(ValueError, match="cover 5 calendar years"):
        summarise(sim, years=6)


def test_a_boom_compounded_for_thirty_years_stays_finite_where_it_is_stored():
    """Semiconductors doubled in the year to June 2026: ets compounds that for 30 years
    past float32's range. The paths are pinned below it, so the stored (float32) paths and
    every total read from them stay finite."""
    from exportcast.models.datasets import load_bundled_items
    from exportcast.models.simulation import CEILING

    semis = load_bundled_items()["kcs10:semiconductors"]
    sim = simulate(semis, "ets", years=30, n_paths=2000, seed=0)
    raw = get_model("ets").fit(semis).sample_paths(sim.horizon, 2000, 0)
    with np.errstate(over="ignore"):
        assert not np.all(np.isfinite(raw.astype(np.float32)))  # what there was to pin
    assert sim.paths.max() <= CEILING
    assert np.all(np.isfinite(sim.paths.astype(np.float32)))
    summary = summarise(sim, years=30, targets=(1e6,)).to_dict()
    for year in summary["years"]:
        assert np.isfinite(year["median"]) and np.all(np.isfinite(year["intervals"]["95"]))
