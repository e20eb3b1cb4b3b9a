"""Why a forecast moved: the steps add up to the change exactly, on made-up versions (any
remake) and on Korea's September 2026, by the engine and through the service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from exportcast.models.core import explain_move, simulate
from exportcast.models.datasets import load_bundled, load_bundled_flashes
from exportcast.models.evaluation.auto import Learning
from exportcast.models.moves import Made, Moves, explain, overlay
from exportcast.models.nowcast.flashes import Flash
from exportcast.models.series import MonthlySeries, format_month, parse_month
from exportcast.models.simulation import Simulation
from exportcast.service.main import create_app
from tests.service_helpers import AUTH, settings_for, wait_job

TARGET = 1_000_000.0


def added_up(moves: Moves) -> None:
    """Every year's median and P(target) change is the sum of the steps'."""
    for year in moves.years:
        change = moves.after.median[year] - moves.before.median[year]
        total = sum(s.contribution.median[year] for s in moves.steps)
        assert total == pytest.approx(change, rel=1e-9, abs=1e-6)
        for target in moves.targets:
            p_change = moves.after.prob[year][target] - moves.before.prob[year][target]
            p_total = sum(s.contribution.prob[year][target] for s in moves.steps)
            assert p_total == pytest.approx(p_change, abs=1e-9)


def fake_sim(series: MonthlySeries, learned: Mapping, flashes: Sequence[Flash], horizon: int):
    """Paths that depend on everything a step changes: the level of the last months, the
    weights, the calibration and the flash."""
    rng = np.random.default_rng(0)
    level = float(np.mean(series.values[-3:]))
    weight = float(sum((learned.get("weights") or {"a": 1.0}).values()))
    scale = float(learned.get("calibration_scale", 1.0))
    bump = sum(f.value for f in flashes if f.month == series.end + 1) * 1e-3
    noise = rng.lognormal(0.0, 0.1 * scale, size=(200, horizon))
    paths = level * weight * noise + bump
    return Simulation(
        series.id, "u", "auto", ("a",), "", series.end,
        series.year_to_date((series.end + 1) // 12)[1], paths,
    )  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    new_months=st.integers(0, 4),
    revised=st.lists(st.integers(0, 35), max_size=4),
    factor=st.floats(0.5, 2.0),
    weights=st.tuples(st.floats(0.1, 2.0), st.floats(0.1, 2.0)),
    flash=st.booleans(),
)
def test_the_steps_add_up_to_the_change_whatever_the_versions(
    new_months, revised, factor, weights, flash
):
    start = 2020 * 12
    values = np.linspace(100.0, 160.0, 40)
    old = MonthlySeries("s", "u", start, values[:36].copy())
    new_values = values[: 36 + new_months].copy() * 1.0
    for i in revised:
        new_values[i] *= factor
    new = MonthlySeries("s", "u", start, new_values)
    flashes = (Flash(new.end + 1, "d1_10", 50.0),) if flash else ()
    before = Made(old, {"weights": {"a": 1.0}, "calibration_scale": 1.0})
    after = Made(new, {"weights": {"a": weights[0]}, "calibration_scale": weights[1]}, flashes)
    stored_before = fake_sim(old, before.learned, (), 72)
    # A stored version that is not exactly what its remake gives: the residual takes it.
    made_after = fake_sim(new, after.learned, flashes, 72)
    stored_after = replace(made_after, paths=made_after.paths * 1.001)
    moves = explain(before, after, stored_before, stored_after, fake_sim, 3, (150.0 * 12,))
    added_up(moves)
    kinds = [s.kind for s in moves.steps]
    assert kinds.count("month") == new_months
    assert ("revisions" in kinds) == bool(overlay(old, new)[1])
    assert kinds[-1] == "residual" and moves.unexplained().median[moves.years[0]] != 0


def test_overlay_names_the_months_revised():
    old = MonthlySeries("s", "u", 100, np.array([1.0, 2.0, 3.0]))
    new = MonthlySeries("s", "u", 100, np.array([1.0, 2.5, 3.0, 4.0]))
    merged, changed = overlay(old, new)
    assert changed == [101] and merged.values.tolist() == [1.0, 2.5, 3.0]


def version(series: MonthlySeries, flashes: Sequence[Flash]) -> tuple[Made, Simulation]:
    """A version as the service makes one: learned from the pooled prior (no backtest fits,
    so it is quick), 240 months of paths, stored as float32."""
    how = Learning(cache_dir=None, fit_missing=False)
    sim = simulate(series, horizon=240, n_paths=600, learning=how, flashes=flashes, country="KR")
    sim = replace(sim, paths=sim.paths.astype(np.float32).astype(np.float64))
    return Made(series, sim.learned, tuple(flashes)), sim


def test_september_2026_split_into_its_causes_with_nothing_left_over():
    kr, flashes = load_bundled(), load_bundled_flashes()
    aug, sep = parse_month("2026-08"), parse_month("2026-09")
    # Before: through August as first published, with September's 1-20 flash.
    first_release = kr.values[: aug - kr.start + 1].copy()
    first_release[-1] = 98_250.0  # August's first release; revised to 98,282.43 since
    before_series = MonthlySeries(kr.id, kr.unit, kr.start, first_release)
    known = [f for f in flashes if f.month <= sep]
    before, stored_before = version(before_series, known)
    after, stored_after = version(kr.through(sep), known)
    moves = explain_move(
        before, after, stored_before, stored_after, 600, 0, "KR", years=5, targets=(TARGET,)
    )
    added_up(moves)
    kinds = [s.kind for s in moves.steps]
    assert kinds[0] == "revisions" and kinds[1] == "month"
    assert moves.steps[0].detail["months"] == [
        {"month": "2026-08", "from": 98_250.0, "to": pytest.approx(98_282.43)}
    ]
    month = moves.steps[1].detail
    assert month["month"] == "2026-09" and month["published"] == pytest.approx(120_943.825)
    # What the previous version expected of September was its flash-informed draw.
    assert month["expected"]["median"] == pytest.approx(
        float(np.median(stored_before.paths[:, 0])), rel=1e-9
    )
    assert month["surprise_pct"] == pytest.approx(
        100 * (120_943.825 / month["expected"]["median"] - 1), abs=0.01
    )
    # Made from the same records, with the same seed: nothing is left over.
    left = moves.unexplained()
    assert all(abs(left.median[y]) < 1e-6 * moves.after.median[y] for y in moves.years)
    # The month dominates the current year's move; the learning steps are there by name.
    year = moves.years[0]
    change = moves.after.median[year] - moves.before.median[year]
    assert abs(moves.steps[1].contribution.median[year]) > 0.5 * abs(change)
    assert {"weights", "calibration"} <= set(kinds)


def test_a_version_links_to_why_it_moved(tmp_path):
    kr = load_bundled()
    aug = parse_month("2026-08")
    rows = [
        {"month": format_month(kr.start + i), "value": float(v)}
        for i, v in enumerate(kr.values)
        if 2010 * 12 <= kr.start + i <= aug
    ]
    app = create_app(settings_for(tmp_path, bootstrap=False, model="ets"))
    with TestClient(app) as client:
        body = {"id": "kr", "name": "Korea", "unit": "USD millions", "targets": [TARGET]}
        assert client.post("/v1/series", json=body, headers=AUTH).status_code == 201
        job = client.post("/v1/series/kr/observations", json={"observations": rows}, headers=AUTH)
        assert wait_job(client, job.json()["job"]["id"], 600)["status"] == "succeeded"
        first = client.get("/v1/series/kr/forecast", params={"targets": TARGET}).json()
        assert first["moves"] is None  # the first version: nothing moved
        refused = client.get(f"/v1/series/kr/models/{first['model_version']}/moves")
        assert refused.status_code == 404 and "first" in refused.json()["detail"]
        september = {"observations": [{"month": "2026-09", "value": 120_943.825}]}
        job = client.post("/v1/series/kr/observations", json=september, headers=AUTH)
        assert wait_job(client, job.json()["job"]["id"], 600)["status"] == "succeeded"
        forecast = client.get("/v1/series/kr/forecast", params={"targets": TARGET}).json()
        versions = client.get("/v1/series/kr/models").json()["versions"]
        assert versions[0]["moves"] == forecast["moves"] and versions[1]["moves"] is None
        moves = client.get(forecast["moves"]).json()
    assert moves["version"] == forecast["model_version"] and moves["from_version"] == 1
    year = str(forecast["years"][0]["year"])
    # The ends are the two versions as served.
    assert moves["after"][year]["median"] == pytest.approx(forecast["years"][0]["median"], 1e-6)
    assert moves["before"][year]["median"] == pytest.approx(first["years"][0]["median"], 1e-6)
    assert moves["after"][year]["prob_at_least"]["1000000"] == pytest.approx(
        forecast["years"][0]["prob_at_least"]["1000000"], abs=1e-4
    )
    change = moves["after"][year]["median"] - moves["before"][year]["median"]
    steps = moves["steps"]
    assert sum(s["years"][year]["median"] for s in steps) == pytest.approx(change, abs=0.01)
    month = next(s for s in steps if s["kind"] == "month")
    assert month["detail"]["month"] == "2026-09" and month["detail"]["published"] == 120_943.825
    assert steps[-1]["kind"] == "residual"
    assert abs(steps[-1]["years"][year]["median"]) < 1e-6 * moves["after"][year]["median"]


def test_a_previous_version_that_cannot_be_read_leaves_the_next_unexplained(tmp_path, caplog):
    from exportcast.service.store import VersionPoints
    from exportcast.service.store.connect import open_store
    from exportcast.service.worker.retrain import previous_of, version_of

    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        store.create_series("s", "S", "u")
        assert previous_of(store, store.get_series("s")) is None  # nothing served yet
        made = Simulation("s", "u", "ets", ("ets",), "d", 2020 * 12, 0.0, np.ones((10, 24)))
        record, _ = version_of(made, "2026-01-01T00:00:00.000000Z")
        store.add_version(record, b"not paths", VersionPoints(), serve=True)
        assert previous_of(store, store.get_series("s")) is None
        assert "cannot be read to explain" in caplog.text
    finally:
        store.close()
