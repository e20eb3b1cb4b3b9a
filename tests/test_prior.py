"""The pooled prior: rebuilt from a few series by the code that ships it, read back by the
code that uses it, and updated by a series' own cases as empirical Bayes says."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exportcast.models.datasets import load_bundled
from exportcast.models.evaluation.auto import Learning, learn_now
from exportcast.models.prior import build
from exportcast.models.prior.evidence import Evidence
from exportcast.models.prior.features import NAMES, features
from exportcast.models.prior.pooled import (
    FORMAT,
    KERNEL_HALF_WIDTH,
    PERCENTILES,
    kernel,
    load,
    shipped,
)
from exportcast.models.prior.posterior import mixed_quantile, posterior
from exportcast.models.registry import AUTO_MEMBERS, get_model


@pytest.fixture(scope="module")
def small_prior(tmp_path_factory):
    """A prior rebuilt from two series of each data set, a few origins each."""
    pool, sizes = build.load_pool(per_set=2, seed=3)
    parts = build.collect(pool, get_model, limit=5, n_paths=100)
    prior = build.fit(parts, sizes, "test")
    path = tmp_path_factory.mktemp("prior") / "prior.json"
    prior.save(path)
    return prior, load(path)


def test_a_prior_rebuilt_from_a_few_series_reads_back_as_the_shipped_one_is_read(small_prior):
    made, read = small_prior
    ship = shipped()
    assert ship is not None, "the package ships its prior"
    assert read.format == ship.format == FORMAT
    assert read.members == ship.members and set(AUTO_MEMBERS) <= set(ship.members)
    assert read.features == ship.features == NAMES
    assert np.shape(read.now_ratios) == np.shape(ship.now_ratios) == (12, len(PERCENTILES))
    assert np.shape(read.later_ratios) == np.shape(ship.later_ratios) == (4, 12, 2, 99)
    assert set(read.pseudo_cases) == set(ship.pseudo_cases)
    assert read.relative_errors(np.ones(4), 3) == pytest.approx(
        made.relative_errors(np.ones(4), 3), rel=1e-3
    )
    assert ship.made_by.startswith("exportcast prior ")
    assert [s["data_set"] for s in ship.sources] == list(build.DATASETS)
    assert all(s["series_used"] <= s["monthly_series"] for s in ship.sources)


def test_with_no_cases_of_its_own_a_series_gets_the_prior():
    prior = shipped()
    for m in (0, 5, 11):
        got = posterior(prior, Evidence(), np.array(prior.feature_mean), m, list(AUTO_MEMBERS))
        assert got.own_cases == 0
        assert got.scale == pytest.approx(np.interp(80, PERCENTILES, prior.now_ratios[m]), rel=0.02)
        assert got.growth == pytest.approx(prior.growth[m])
        relative = prior.relative_errors(np.array(prior.feature_mean), m)
        best = min(AUTO_MEMBERS, key=lambda n: relative[n])
        assert max(got.weights, key=got.weights.get) == best


def _own(ratio: float, n: int, m: int) -> Evidence:
    return Evidence(now_m=np.full(n, float(m)), now_ratio=np.full(n, ratio))


def test_a_series_own_cases_outweigh_the_prior_as_they_grow():
    """The current-year factor moves from the prior's to the series' own as its cases
    grow, monotonically, and is halfway (in the mixed distribution) at `pseudo_cases`."""
    prior = shipped()
    m, own_ratio = 6, 3.0  # far above the prior's 80% ratio
    scales = [
        posterior(prior, _own(own_ratio, n, m), np.zeros(4), m, list(AUTO_MEMBERS)).scale
        for n in (0, 1, 5, 20, 100, 1000)
    ]
    assert scales == sorted(scales)
    assert scales[0] < 1.5 and scales[-1] == pytest.approx(own_ratio)


@settings(max_examples=60, deadline=None)
@given(
    own=st.lists(st.floats(0.01, 10), min_size=1, max_size=30),
    level=st.sampled_from([50.0, 80.0, 95.0]),
    k=st.floats(0, 50),
)
def test_a_mixed_quantile_lies_between_its_two_sources(own, level, k):
    prior = np.quantile(np.random.default_rng(1).lognormal(0, 0.5, 500), PERCENTILES / 100)
    values, weights = np.array(own), np.ones(len(own))
    q = mixed_quantile(prior, k, values, weights, level)
    alone_own = mixed_quantile(None, 0, values, weights, level)
    alone_prior = np.interp(level, PERCENTILES, prior)
    assert min(alone_own, alone_prior) - 1e-9 <= q <= max(alone_own, alone_prior) + 0.05
    assert alone_own == pytest.approx(np.sort(values)[int(np.ceil(len(own) * level / 100)) - 1])


@given(st.integers(0, 11), st.integers(0, 10))
def test_no_case_changes_weight_by_more_than_a_kernel_step_when_a_month_is_added(case_m, m):
    """No boundary in months known: a case's weight moves by at most 1 / half-width."""
    step = abs(kernel(np.array([case_m]), m + 1)[0] - kernel(np.array([case_m]), m)[0])
    assert step <= 1 / KERNEL_HALF_WIDTH + 1e-12


def _pool(spread_across_series: float, seed: int) -> list[build.Part]:
    """Two data sets of series whose year-in-progress ratios differ from series to series
    by a factor of lognormal(0, spread) around a common distribution."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(60):
        n = 40
        scale = np.exp(rng.normal(0, spread_across_series))
        m = rng.integers(0, 12, n).astype(float)
        ev = Evidence(
            members=("a", "b"),
            member_m=m,
            member_errors=np.abs(rng.normal(0, 0.05, (n, 2))),
            member_features=rng.normal(0, 1, (n, 4)),
            now_m=m,
            now_ratio=np.abs(rng.normal(0, scale, n)),
        )
        parts.append(("one" if i % 2 else "two", f"s{i}", ev, 0.0))
    return parts


def test_the_prior_weighs_less_where_series_differ_more():
    """Cross-validated across data sets: where series differ a lot, their own cases win
    (few pseudo-cases); where they are alike, the pooled prior does (many)."""
    alike, _ = build.choose_pseudo_cases(_pool(0.0, 1))
    unlike, losses = build.choose_pseudo_cases(_pool(1.0, 1))
    assert unlike["scale"] <= 5 < 50 <= alike["scale"]
    assert len(losses["scale"]) == len(build.PSEUDO_GRID)


def test_features_are_scale_free_and_see_seasonality():
    kr = load_bundled("kr-exports")
    f = features(kr)
    scaled = features(type(kr)(kr.id, kr.unit, kr.start, kr.values * 1000))
    np.testing.assert_allclose(f, scaled)
    assert len(f) == len(NAMES) and 0 <= f[1] <= 1 and 0 <= f[2] <= 1
    flat = type(kr)("s", "u", kr.start, np.exp(0.3 * np.sin(np.arange(120) * np.pi / 6)) + 1)
    assert features(flat)[2] > 0.9  # a pure seasonal pattern


def test_a_first_version_needs_no_backtest_and_says_so(tmp_path):
    """Told to make no fit, `auto` learns from the fits at hand: none in an empty cache,
    so the prior alone, and the summary counts what a refined version will need."""
    kr = load_bundled("kr-exports")
    fitted = [get_model(n).fit(kr) for n in AUTO_MEMBERS]
    how = Learning(cache_dir=tmp_path, fit_missing=False)
    learned = learn_now(kr, fitted, get_model, how)
    assert learned is not None and learned.summary["fits_missing"] > 100
    assert learned.state.own_cases == 0 and not list(tmp_path.rglob("*.npz"))  # none made
    assert learned.summary["prior"]["pseudo_cases"] == shipped().pseudo_cases
    assert sum(learned.state.weights.values()) == pytest.approx(1)
    assert len(learned.state.years) == 4 and 0 <= learned.state.years[0].growth <= 1


def test_the_documented_command_writes_a_prior_the_package_can_read(tmp_path):
    from exportcast.service.cli.main import main

    out = tmp_path / "prior.json"
    args = ["prior", "--per-set", "1", "--origins", "3", "--paths", "100", "--jobs", "1"]
    assert main([*args, "--out", str(out)]) == 0
    made = load(out)
    assert made.made_by.startswith("exportcast prior --datasets m1,m3,tourism --per-set 1 ")
    assert [s["series_used"] for s in made.sources] == [1, 1, 1]
