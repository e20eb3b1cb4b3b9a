"""The export-items hierarchy: nodes from the data, coupling and reconciliation path by
path, concentration, and a forecast of the bundled items that adds up."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from exportcast.models.core import simulate
from exportcast.models.datasets import load_bundled, load_bundled_items
from exportcast.models.hierarchy import concentration, reconcile
from exportcast.models.hierarchy.forecast import make_coherent, summarise_hierarchy
from exportcast.models.hierarchy.items import hierarchy_of, parse_items_csv
from exportcast.models.hierarchy.spec import OTHER, TOTAL, Hierarchy, node_series
from exportcast.models.series import MonthlySeries
from exportcast.models.validate import SeriesError


@pytest.fixture(scope="module")
def bundled():
    hierarchy, items = hierarchy_of("kr-exports-items", "kr-exports", load_bundled_items())
    return hierarchy, node_series(hierarchy, load_bundled(), items)


def test_the_bundled_items_are_the_ten_kcs_items_2016_to_2026(bundled):
    hierarchy, nodes = bundled
    assert hierarchy.classification == "kcs10"
    assert len(hierarchy.items) == 10 and "semiconductors" in hierarchy.items
    assert hierarchy.nodes == (TOTAL, *hierarchy.items, OTHER)
    semis = nodes["semiconductors"]
    assert semis.months[0] == "2016-01" and semis.months[-1] == "2026-06"
    # other is the total less the items, month by month, over the months they share
    total = nodes[TOTAL].values[-len(semis.values) :]
    items = np.sum([nodes[i].values for i in hierarchy.items], axis=0)
    np.testing.assert_allclose(nodes[OTHER].values, total - items)
    assert 0.3 < nodes[OTHER].values.sum() / total.sum() < 0.45
    # the total keeps its whole history for its own forecast
    assert nodes[TOTAL].months[0] == "2000-01"


def test_items_of_different_classifications_are_never_added():
    text = "month,item,value\n2020-01,kcs10:ships,1\n2020-01,hs4_2710:petroleum_oils,2\n"
    with pytest.raises(ValueError, match="different classifications"):
        hierarchy_of("h", "t", parse_items_csv(text))


def test_a_bad_item_row_is_named_with_its_item_and_line():
    text = "month,item,value\n2020-01,kcs10:ships,1\n2020-02,kcs10:ships,-3\n2020-01,,4\n"
    with pytest.raises(SeriesError) as caught:
        parse_items_csv(text)
    message = str(caught.value)
    assert "line 3: kcs10:ships:" in message and "line 4: item is empty" in message


def test_items_that_reach_the_total_are_refused():
    months = 30
    total = MonthlySeries("t", "u", 24000, np.full(months, 10.0))
    items = {"a": MonthlySeries("a", "u", 24000, np.full(months, 6.0))}
    items["b"] = MonthlySeries("b", "u", 24000, np.r_[np.full(months - 1, 3.0), 4.0])
    with pytest.raises(ValueError, match="add up to the total or more in 2002-06"):
        node_series(Hierarchy("h", "t", "x", ("a", "b")), total, items)


@settings(max_examples=60, deadline=None)
@given(
    base=arrays(np.float64, (5, 40), elements=st.floats(1.0, 1e4)),
    history=arrays(np.float64, (5, 30), elements=st.floats(1.0, 1e4)),
    method=st.sampled_from(reconcile.METHODS),
    scale=st.floats(0.5, 2.0),
)
def test_reconciled_nodes_add_up_exactly_path_by_path(base, history, method, scale):
    made = reconcile.plan(base, history, method, np.random.default_rng(0), scale)
    paths = np.stack([base, base * 1.1, base * 0.9], axis=2)  # (nodes, n, months)
    for coherent in (made.apply(base), made.apply(paths)):
        assert coherent.shape[:2] == base.shape
        np.testing.assert_array_equal(coherent[0], coherent[1:].sum(axis=0))
        assert np.all(coherent >= 0)
    if method == "top_down" and scale == 1.0:  # the total's own draws, reordered
        np.testing.assert_allclose(np.sort(made.apply(base)[0]), np.sort(base[0]))


@settings(max_examples=40, deadline=None)
@given(bottom=arrays(np.float64, (4, 30), elements=st.floats(1.0, 1e4)))
def test_already_coherent_paths_stay_as_they_are(bottom):
    """MinT is a projection onto coherent paths: a coherent input comes back unchanged;
    bottom-up keeps the bottom nodes whatever the total said."""
    summing = Hierarchy("h", "t", "x", ("a", "b", "c")).summing_matrix()
    base = summing @ bottom
    noisy = base + np.random.default_rng(0).normal(0, 50, base.shape)
    g, _ = reconcile.combination("mint_shrink", summing, noisy)
    np.testing.assert_allclose(reconcile.reconcile(base, g), base, rtol=1e-9, atol=1e-6)
    g, _ = reconcile.combination("bottom_up", summing, noisy)
    wrong_total = base.copy()
    wrong_total[0] *= 3
    np.testing.assert_array_equal(reconcile.reconcile(wrong_total, g)[1:], bottom)


def test_mint_leans_on_the_node_with_the_smaller_errors():
    rng = np.random.default_rng(1)
    truth = rng.uniform(90, 110, (3, 5000))  # a, b and other
    summing = Hierarchy("h", "t", "x", ("a", "b")).summing_matrix()
    exact = summing @ truth
    base = exact.copy()
    base[0] += rng.normal(0, 1, 5000)  # a sharp total
    base[1:] += rng.normal(0, 20, (3, 5000))  # vague items
    mint, _ = reconcile.combination("mint_shrink", summing, base - exact)
    bottom_up, _ = reconcile.combination("bottom_up", summing, base - exact)
    assert np.std(reconcile.reconcile(base, mint)[0] - exact[0]) < 3
    assert np.std(reconcile.reconcile(base, bottom_up)[0] - exact[0]) > 20


def test_shrinkage_keeps_variances_and_pulls_noise_correlations_to_zero():
    rng = np.random.default_rng(2)
    noise = rng.normal(size=(40, 6))
    shrunk = reconcile.shrunk_covariance(noise)
    np.testing.assert_allclose(np.diag(shrunk.covariance), noise.var(axis=0, ddof=1))
    assert shrunk.intensity > 0.5  # independent columns: their sample correlations are noise
    common = rng.normal(size=(400, 1))
    related = common + 0.3 * rng.normal(size=(400, 6))
    strong = reconcile.shrunk_covariance(related)
    assert strong.intensity < 0.1
    assert np.all(np.linalg.eigvalsh(strong.covariance) > 0)


def test_coupling_keeps_each_nodes_draws_and_gives_them_the_correlation():
    rng = np.random.default_rng(3)
    draws = np.stack([rng.lognormal(0, 0.2, 4000), rng.gamma(3, 1, 4000), rng.normal(5, 1, 4000)])
    target = np.array([[1, 0.8, 0.5], [0.8, 1, 0.3], [0.5, 0.3, 1]])
    order = reconcile.coupling_order(draws, target, rng)
    coupled = np.take_along_axis(draws, order, axis=1)
    for i in range(3):
        np.testing.assert_array_equal(np.sort(coupled[i]), np.sort(draws[i]))
    ranks = np.argsort(np.argsort(coupled, axis=1), axis=1)
    spearman = np.corrcoef(ranks)
    np.testing.assert_allclose(spearman, target, atol=0.05)


@settings(max_examples=60, deadline=None)
@given(
    items=arrays(np.float64, (6, 20), elements=st.floats(0.0, 1e3)),
    other=arrays(np.float64, (20,), elements=st.floats(1.0, 1e3)),
)
def test_concentration_is_ordered_and_bounded(items, other):
    share = concentration.shares(items, items.sum(axis=0) + other)
    top, top3 = concentration.top_share(share), concentration.top_share(share, 3)
    hhi = concentration.herfindahl(share)
    assert np.all(top <= top3 + 1e-12) and np.all(top3 <= share.sum(axis=0) + 1e-12)
    assert np.all(top**2 <= hhi + 1e-12) and np.all(hhi <= top * share.sum(axis=0) + 1e-12)
    assert np.all(share.sum(axis=0) < 1)


def test_a_forecast_of_the_bundled_items_adds_up_and_reads_from_the_same_paths(bundled):
    hierarchy, nodes = bundled
    sims = {n: simulate(nodes[n], "snaive", years=3, n_paths=300, seed=1) for n in hierarchy.nodes}
    coherent = make_coherent(hierarchy, sims, nodes, "mint_shrink", seed=1)
    paths = {n: s.paths for n, s in coherent.sims.items()}
    np.testing.assert_array_equal(
        paths[TOTAL], np.sum([paths[n] for n in hierarchy.bottom], axis=0)
    )
    # Each node keeps its published months as facts; the year totals add up path by path.
    year = {n: s.year_draws[0] for n, s in coherent.sims.items()}
    assert year[TOTAL].months_observed == 6
    assert year[TOTAL].actual_to_date == pytest.approx(nodes[TOTAL].year_to_date(2026)[1])
    np.testing.assert_allclose(
        year[TOTAL].totals, np.sum([year[n].totals for n in hierarchy.bottom], axis=0)
    )
    result = summarise_hierarchy(
        coherent, nodes, 3, (80.0,), {TOTAL: (700_000.0,), "semiconductors": (250_000.0,)}
    )
    body = result.to_dict()
    assert body["coherence"]["largest_gap"] == 0.0
    assert set(body["nodes"]) == set(hierarchy.nodes)
    # Coherence against a sum made here, not by the code under test: each bottom node's
    # 2026 and 2027 totals by hand, its published Jan-Jun from its own series plus its
    # path's months, added up; the body's total is read from the total's own year draws.
    first = 2026 * 12
    by_hand = {}
    for n in hierarchy.nodes:
        published = nodes[n].values[first - nodes[n].start :]  # Jan-Jun 2026 (items end there)
        assert len(published) == 6
        by_hand[n] = np.stack(
            [published.sum() + paths[n][:, :6].sum(axis=1), paths[n][:, 6:18].sum(axis=1)]
        )
    items_and_other = np.sum([by_hand[n] for n in hierarchy.bottom], axis=0)
    np.testing.assert_allclose(by_hand[TOTAL], items_and_other, rtol=1e-12)
    for j, calendar_year in enumerate((2026, 2027)):
        said = body["nodes"][TOTAL]["years"][j]
        assert said["year"] == calendar_year
        assert said["median"] == pytest.approx(np.median(items_and_other[j]), abs=1e-3)
    reach = np.mean(items_and_other[0] >= 700_000)
    assert body["nodes"][TOTAL]["years"][0]["prob_at_least"]["700000"] == pytest.approx(
        reach, abs=1e-4
    )
    semis = body["nodes"]["semiconductors"]["years"][0]
    draws = year["semiconductors"].totals
    assert semis["prob_at_least"]["250000"] == pytest.approx(np.mean(draws >= 250_000), abs=1e-4)
    assert semis["median"] == pytest.approx(np.median(draws), rel=1e-6)
    share = body["shares"]["semiconductors"][0]
    assert share["median"] == pytest.approx(np.median(draws / year[TOTAL].totals), abs=1e-4)
    concentration_2026 = body["concentration"][0]
    assert concentration_2026["year"] == 2026 and concentration_2026["top_item"] == "semiconductors"
    low, high = concentration_2026["top_share"]["intervals"]["80"]
    assert low <= concentration_2026["top_share"]["median"] <= high
    history = {h["year"]: h for h in body["history"]}
    assert set(history) == set(range(2016, 2026))
    semis_2025 = nodes["semiconductors"].year_to_date(2025)[1] / nodes[TOTAL].year_to_date(2025)[1]
    assert history[2025]["top_item"] == "semiconductors"
    assert history[2025]["top_share"] == pytest.approx(semis_2025, abs=1e-4)


def test_the_coherence_check_finds_published_months_that_do_not_add_up(bundled):
    """`largest_gap` is measured on the year totals the body answers from, each node's own
    published months included: the paths add up by construction, these need not."""
    hierarchy, nodes = bundled
    sims = {n: simulate(nodes[n], "snaive", years=2, n_paths=100, seed=1) for n in hierarchy.nodes}
    coherent = make_coherent(hierarchy, sims, nodes, "top_down", seed=1)
    assert summarise_hierarchy(coherent, nodes, 2, (80.0,)).coherence["largest_gap"] == 0.0
    ships = coherent.sims["ships"]
    off = replace(ships, actual_to_date=ships.actual_to_date + 250.0)  # a month of ships miscounted
    broken = replace(coherent, sims={**coherent.sims, "ships": off})
    gap = summarise_hierarchy(broken, nodes, 2, (80.0,)).coherence["largest_gap"]
    assert gap == pytest.approx(250.0)


def test_widening_together_spreads_the_total_and_keeps_the_nodes_adding_up():
    rng = np.random.default_rng(4)
    bottom = rng.lognormal(3, 0.3, (3, 2000))
    values = np.concatenate([bottom.sum(axis=0, keepdims=True), bottom])
    np.testing.assert_allclose(reconcile.together_factor(values[0], 1.0), 1.0)
    factor = reconcile.together_factor(values[0], 2.0)
    widened = values * factor
    spread = np.std(np.log(widened[0])) / np.std(np.log(values[0]))
    assert spread == pytest.approx(2.0, rel=1e-6)
    np.testing.assert_allclose(widened[0], widened[1:].sum(axis=0))


def test_the_backtest_scores_direct_and_reconciled_on_the_same_origins(bundled, tmp_path):
    from exportcast.models.evaluation.hierarchy import DIRECT, hierarchy_backtest
    from exportcast.models.registry import get_model

    hierarchy, nodes = bundled
    report = hierarchy_backtest(
        hierarchy, nodes, ("snaive",), get_model, from_year=2024, n_paths=200, cache_dir=tmp_path
    )
    by_model: dict[str, list] = {}
    for case in report.cases:
        by_model.setdefault(case.model, []).append(case)
    origins = {(c.year, c.m) for c in by_model[DIRECT]}
    assert origins == {(y, m) for y in (2024, 2025) for m in range(12)}
    for method in reconcile.METHODS:
        assert {(c.year, c.m) for c in by_model[method]} == origins
    # top-down keeps the total's own draws: its total is the direct one, case by case
    for direct, top in zip(by_model[DIRECT], by_model["top_down"], strict=True):
        assert top.median == pytest.approx(direct.median, rel=1e-9)
    assert [(p["year"], p["m"]) for p in report.path] == [(2026, m) for m in range(7)]
    semis = report.score("semiconductors:direct", "all")
    assert semis is not None and semis.n == 24


def test_classification_is_read_from_codes_only():
    from exportcast.models.hierarchy.spec import classification

    assert classification("kcs10:ships") == "kcs10"
    assert classification("hs4_2710:petroleum_oils") == "hs4"
    assert classification("motie20:semiconductors") == "motie20"
    assert classification("Exports: ships") == "" and classification("ships") == ""


def test_node_paths_on_disk_are_kept_per_node(tmp_path):
    from exportcast.service.worker import hierarchy_fits as hierarchies

    def sim(value: float):
        return simulate(MonthlySeries("s", "u", 24000, np.full(36, value)), "snaive", n_paths=100)

    folder = tmp_path / "h"
    hierarchies._save_node(folder / "ships@k1.npz", sim(1.0))
    hierarchies._save_node(folder / "ships-x@k2.npz", sim(2.0))  # another node: ships' stays
    hierarchies._save_node(folder / "ships@k3.npz", sim(3.0))  # ships' new data: k1 goes
    assert sorted(p.name for p in folder.iterdir()) == ["ships-x@k2.npz", "ships@k3.npz"]
    loaded = hierarchies._load_node(folder / "ships@k3.npz")
    assert loaded is not None  # paths as float32 holds them, whole simulation from the file
    np.testing.assert_array_equal(loaded.paths, sim(3.0).paths.astype(np.float32))
    assert loaded.model == "snaive" and loaded.series_id == "s"
    assert loaded.actual_to_date == sim(3.0).actual_to_date
    assert hierarchies._load_node(folder / "missing@k.npz") is None


def test_an_unreadable_node_file_is_dropped_and_fitted_again(tmp_path):
    from exportcast.service.worker import hierarchy_fits as hierarchies

    path = tmp_path / "h" / "ships@k1.npz"
    path.parent.mkdir()
    path.write_bytes(b"PK\x03\x04 cut short")
    assert hierarchies._load_node(path) is None and not path.exists()
    sim = simulate(MonthlySeries("s", "u", 24000, np.full(36, 5.0)), "snaive", n_paths=50)
    hierarchies._save_node(path, sim)
    assert hierarchies._load_node(path) is not None


def test_a_hierarchy_body_is_checked_against_its_schema_before_it_is_stored(tmp_path):
    from exportcast.service.worker.hierarchy_fits import HierarchyRequest, check_hierarchy_body
    from exportcast.service.worker.hierarchy_fits import train_hierarchy as make

    hierarchy, items = hierarchy_of("kr-exports-items", "kr-exports", load_bundled_items())
    total = load_bundled()
    request = HierarchyRequest(hierarchy, total, items, {}, "snaive", 100, 0, tmp_path)
    body = make(request)  # as the worker makes it
    check_hierarchy_body(body)
    again = make(request)  # every node read back from the cache: the same numbers
    assert again["refit"] == [] and again["methods"] == body["methods"]
    summary = body["methods"]["top_down"]

    def refused(change: dict, words: str) -> None:
        with pytest.raises(ValueError, match=words):
            check_hierarchy_body({**body, **change})

    refused({"methods": {}}, "top_down is needed")
    refused({"methods": {"top_down": summary, "average": summary}}, "unknown: \\['average'\\]")
    refused({"methods": {"top_down": {**summary, "levels": "wide"}}}, "'top_down': levels")
    refused({"methods": {"top_down": {**summary, "spare": 1}}}, "spare")
    refused({"methods": {"top_down": {**summary, "method": "bottom_up"}}}, "bottom_up")
    refused({"data_through": body["data_through"] + 1}, "data through")
    refused({"refit": "ships"}, "'refit' is not a list")
