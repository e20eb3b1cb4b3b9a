"""Markets: regions, the compositions read from the bundled destination rows, the
composition model, its coherence with the total's paths and its backtest."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from exportcast.models.core import simulate
from exportcast.models.datasets import load_bundled_destinations
from exportcast.models.evaluation.markets import backtest_markets
from exportcast.models.markets import composition
from exportcast.models.markets.destinations import (
    DestinationRow,
    Period,
    check_destination_rows,
    compositions,
    parse_destinations_csv,
)
from exportcast.models.markets.forecast import fit_markets, forecast_markets
from exportcast.models.markets.regions import REGION_IDS, REGIONS, REST, region_of
from exportcast.models.markets.targets import ShareTarget, parse_targets
from exportcast.models.validate import SeriesError


@pytest.fixture(scope="module")
def rows() -> list[DestinationRow]:
    return load_bundled_destinations()


@pytest.fixture(scope="module")
def made(rows):
    return compositions(rows)


def test_each_code_is_in_one_region_and_the_rest_is_everything_else():
    seen: dict[str, str] = {}
    for region in REGIONS:
        for code in region.codes:
            assert code not in seen, f"{code} in {seen.get(code)} and {region.id}"
            seen[code] = region.id
    assert region_of("VNM") == "asean" and region_of("DEU") == "eu"
    assert region_of("GBR") == REST and region_of("AUS") == REST
    assert REGION_IDS[-1] == REST and len(REGION_IDS) == 11


def test_published_years_match_the_files_own_totals(rows, made):
    """Each complete year's regions, summed independently from the file's partner rows,
    add up to the file's world total within 0.2%, and the shares are those sums."""
    partners: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    world: dict[str, float] = {}
    for row in rows:
        if row.period.month is not None or row.destination.startswith("REGION_"):
            continue
        if row.destination == "WORLD":
            world[str(row.period)] = row.value
        else:
            partners[str(row.period)][region_of(row.destination)] += row.value
    years = [c for c in made if c.basis == "year"]
    assert [c.label for c in years] == [str(y) for y in range(2000, 2024)]
    for c in years:
        by_region = partners[c.label]
        assert abs(sum(by_region.values()) / world[c.label] - 1) < 0.002
        for region in REGION_IDS[:-1]:
            assert c.shares[region] == pytest.approx(by_region[region] / world[c.label])
        assert sum(c.shares.values()) == pytest.approx(1.0)


def test_partial_and_monthly_data_are_used_for_what_they_are(made):
    by_label = {c.label: c for c in made}
    partial = by_label["2024"]  # China, the US and the world only
    assert partial.basis == "partial year" and not partial.complete
    assert {k for k, v in partial.shares.items() if v is not None} == {"china", "united_states"}
    assert partial.shares["united_states"] == pytest.approx(127_760 / 683_600, rel=0.01)
    assert "2025" not in by_label  # nothing by partner for 2025-01 .. 2025-06
    newest = made[-1]
    assert newest.label == "2025-07..2026-06" and newest.basis == "twelve months"
    assert newest.complete and newest.at == pytest.approx(2025.5)
    assert 0.94 <= newest.coverage <= 0.96
    assert sum(newest.shares.values()) == pytest.approx(1.0)


def test_bad_destination_rows_are_each_named_and_none_kept():
    rows = [
        (2, "2023", "CHN", "100"),
        (3, "2023-13", "USA", "5"),
        (4, "2023", "china", "5"),
        (5, "2023", "JPN", "-1"),
        (6, "2023", "CHN", "7"),
    ]
    with pytest.raises(SeriesError) as caught:
        check_destination_rows(rows)
    message = str(caught.value)
    for line in ("line 3", "line 4", "line 5", "line 6"):
        assert line in message
    assert "line 2" not in message and "given twice" in message
    assert Period.parse("2026-06").month == 2026 * 12 + 5 and Period.parse("2023").month is None


def test_the_csv_reader_takes_the_bundled_columns_and_the_plain_ones(rows):
    assert len(rows) == 6470  # every row of the bundled file, sources ignored
    plain = parse_destinations_csv("period,destination,value\n2023,CHN,1.5\n2023-04,WORLD,2\n")
    assert [(str(r.period), r.destination, r.value) for r in plain] == [
        ("2023", "CHN", 1.5),
        ("2023-04", "WORLD", 2.0),
    ]
    with pytest.raises(SeriesError, match="no 'destination' column"):
        parse_destinations_csv("month,partner,value\n2023,CHN,1\n")


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, (4, 6), elements=st.floats(0.01, 1.0)))
def test_log_ratios_go_back_to_the_same_shares(raw):
    shares = raw / raw.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(composition.from_alr(composition.alr(shares)), shares, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(-0.5, 0.8), st.floats(1.0, 2.0))
def test_share_paths_are_compositions_whose_medians_keep_the_points_ratios(seed, rho, power):
    rng = np.random.default_rng(seed)
    k = 4
    a = rng.normal(size=(k, k)) * 0.1
    fitted = composition.FittedComposition(
        last_logs=np.log(rng.dirichlet(np.ones(k + 1))),
        step=rng.normal(scale=0.05, size=k + 1),
        rho=np.full(k + 1, rho),
        pooled=rho,
        at=2020.0,
        noise=a @ a.T + 0.001 * np.eye(k),
        power=power,
        origins=10,
    )
    paths = composition.simulate_shares(fitted, [2021, 2022.5, 2025], 801, rng)
    assert paths.shape == (3, 801, k + 1)
    assert np.all(paths > 0)
    np.testing.assert_allclose(paths.sum(axis=2), 1.0, atol=1e-12)
    for j, year in enumerate([2021, 2022.5, 2025]):
        point = composition.from_alr(fitted.mean(year)[None])[0]
        medians = np.median(paths[j], axis=0)
        np.testing.assert_allclose(composition.alr(medians), composition.alr(point), atol=1e-3)


@settings(max_examples=50, deadline=None)
@given(st.floats(-0.5, 0.8), st.integers(0, 6), st.floats(0.0, 0.999))
def test_the_part_kept_is_a_sum_of_powers_continued_between_years(rho, whole, part):
    expected = sum(rho**j for j in range(1, whole + 1))
    assert composition.kept(np.array([rho]), whole)[0] == pytest.approx(expected, abs=1e-12)
    between = composition.kept(np.array([rho]), whole + part)[0]
    assert between == pytest.approx(expected + part * rho ** (whole + 1), abs=1e-12)


def test_momentum_is_each_regions_autocorrelation_pooled_toward_all_of_theirs():
    rng = np.random.default_rng(0)
    years = 40
    runs = np.zeros((years, 3))
    for t in range(1, years):  # region 0 moves in runs, region 1 swings back, 2 is the rest
        runs[t, 0] = 0.7 * runs[t - 1, 0] + rng.normal()
        runs[t, 1] = -0.4 * runs[t - 1, 1] + rng.normal()
    logs = np.cumsum(runs, axis=0) * 0.01
    rho, pooled = composition.momentum(logs, np.arange(years, dtype=float))
    assert rho[0] > 0.3 and rho[1] < 0 and min(rho) >= -0.5 and max(rho) <= 0.8
    assert rho[1] < pooled < rho[0]  # each pulled toward the pooled value, not past it


@pytest.fixture(scope="module")
def total_sim(kr):
    return simulate(kr, "snaive", years=5, n_paths=1000, seed=3)


def test_regions_add_up_to_the_totals_paths_on_every_path(made, total_sim):
    targets = parse_targets(["china<0.18,asean+eu>0.3333"])
    forecast = forecast_markets(made, total_sim, targets=targets, seed=5)
    body = forecast.to_dict()
    # independently: each region's exports from the body's own arrays, summed in a loop
    for j, draws in enumerate(total_sim.year_draws[:5]):
        summed = np.zeros(total_sim.n_paths)
        for k in range(len(REGION_IDS)):
            summed = summed + forecast.shares[j][:, k] * np.asarray(draws.totals, dtype=float)
        np.testing.assert_allclose(summed, draws.totals, rtol=1e-12)
    assert body["coherence"]["largest_relative_gap"] < 1e-12
    years = body["years"]
    assert [y["year"] for y in years] == [2026, 2027, 2028, 2029, 2030]
    first = years[0]
    china = first["regions"]["china"]["share"]
    lo, hi = china["intervals"]["80"]
    assert lo < china["median"] < hi and 0.1 < china["median"] < 0.3
    # the probability is the share of paths, counted here from the paths
    shares = forecast.shares[0][:, REGION_IDS.index("china")]
    assert first["targets"][0] == {
        "target": "china<0.18",
        "probability": round(float(np.mean(shares < 0.18)), 4),
    }
    assert body["published"][-1]["period"] == "2025-07..2026-06"
    # the shares' medians are the composition's centre: they add to one, every year
    for y in years:
        assert sum(r["share"]["median"] for r in y["regions"].values()) == pytest.approx(
            1, abs=1e-4
        )


def test_the_newest_twelve_months_move_the_projection(made, total_sim):
    """Without the monthly rows the model starts from 2023; with them, from mid-2026."""
    before = [c for c in made if c.basis != "twelve months"]
    with_months = forecast_markets(made, total_sim, seed=1).to_dict()
    without = forecast_markets(before, total_sim, seed=1).to_dict()
    taiwan = [b["years"][0]["regions"]["taiwan"]["share"]["median"] for b in (with_months, without)]
    assert taiwan[0] > taiwan[1] + 0.01  # the chip boom's twelve months: 7.4% against 3.2%


def test_targets_are_checked_and_named():
    assert ShareTarget.parse("asean+eu>0.3333") == ShareTarget(("asean", "eu"), True, 0.3333)
    for bad, words in (
        ("mars<0.1", "unknown region"),
        ("china<1.5", "between 0 and 1"),
        ("china=0.2", "is not"),
        ("china+china<0.2", "twice"),
    ):
        with pytest.raises(ValueError, match=words):
            ShareTarget.parse(bad)
    with pytest.raises(ValueError, match="at most"):
        parse_targets([",".join(f"china<0.{i + 1}" for i in range(9))] * 2)


def test_the_backtest_never_sees_the_years_it_scores(made):
    """Changing every year after an origin leaves that origin's fit unchanged."""
    base = backtest_markets(made, origins=[2012], n_paths=200)
    changed = []
    for c in made:
        if c.basis == "year" and c.at > 2012:
            shares = {k: v for k, v in c.shares.items()}
            shares["china"], shares["rest"] = (
                shares["china"] * 0.5,
                shares["rest"] + shares["china"] * 0.5,
            )
            c = type(c)(c.label, c.at, c.basis, c.total, shares)
        changed.append(c)
    again = backtest_markets(changed, origins=[2012], n_paths=200)
    assert base.chosen == again.chosen
    assert base.by_horizon[0].mae != again.by_horizon[0].mae  # the scores did see them


def test_the_backtest_scores_the_model_beside_both_baselines(made):
    result = backtest_markets(made, n_paths=500)
    assert [s.horizon for s in result.by_horizon] == [1, 2, 3, 4, 5]
    assert result.by_horizon[0].cases == 15  # origins 2008-2022, one year ahead
    for score in result.by_horizon:
        assert set(score.mae) == {"model", "last_shares", "drift"}
        assert all(v > 0 for v in score.mae.values())
    assert 0.6 < result.pooled_coverage[80.0] < 0.95
    # the baselines are what they say: last year's shares, and a drift that is a composition
    for score in result.by_horizon:
        assert score.mae["drift"] > score.mae["last_shares"]  # Korea's shares: no steady drift
    fitted = fit_markets(made)
    assert fitted.at == pytest.approx(2025.5)


def test_the_year_in_progress_keeps_its_published_months_as_facts(rows, made, total_sim):
    from exportcast.models.markets.forecast import region_totals, year_in_progress

    known = year_in_progress(rows, total_sim)
    assert known is not None and (known.year, known.months) == (2026, 6)
    with_facts = forecast_markets(made, total_sim, seed=2, known=known)
    without = forecast_markets(made, total_sim, seed=2)
    exports = region_totals(with_facts.shares, with_facts.totals)[0]
    china = REGION_IDS.index("china")
    assert np.all(exports[:, china] >= known.regions["china"])  # never below what is known
    np.testing.assert_allclose(exports.sum(axis=1), with_facts.totals[0], rtol=1e-12)
    body = with_facts.to_dict()
    assert body["year_to_date"]["months"] == 6

    def width(b):
        lo, hi = b["years"][0]["regions"]["china"]["share"]["intervals"]["80"]
        return hi - lo

    assert width(body) < 0.8 * width(without.to_dict())
    # later years are left as they were by the facts of this one (the same distribution;
    # each path's step to them is split at another point, so not the same draws)
    for r in REGION_IDS:
        medians = [
            b["years"][1]["regions"][r]["share"]["median"] for b in (body, without.to_dict())
        ]
        assert medians[0] == pytest.approx(medians[1], abs=0.003)


def test_a_region_with_no_exports_stays_next_to_nothing_and_finite():
    shares = np.array([[0.5, 0.3, 0.0, 0.2]] * 4 + [[0.45, 0.35, 0.0, 0.2]] * 4)
    fitted = composition.fit_composition(shares, np.arange(8.0))
    paths = composition.simulate_shares(fitted, [8, 9], 200, np.random.default_rng(0))
    assert np.all(np.isfinite(paths)) and np.all(paths[:, :, 2] < 1e-4)
