"""Many series on a Dask cluster give what one process gives, series by series."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from exportcast.models.core import forecast_many
from exportcast.models.distributed.cluster import dask_executor
from exportcast.models.evaluation import backtest
from exportcast.models.evaluation.auto import Learning
from exportcast.models.evaluation.origins import origins
from exportcast.models.registry import get_model
from exportcast.models.series import MonthlySeries, parse_month


def panel(kr: MonthlySeries) -> list[MonthlySeries]:
    """Real cuts of the bundled series, one too short for any member."""
    cuts = [kr.through(parse_month(m)) for m in ("2012-12", "2019-06", "2026-05")]
    recent = MonthlySeries("kr-recent", kr.unit, parse_month("2021-01"), kr.values[-65:])
    tiny = MonthlySeries("kr-tiny", kr.unit, parse_month("2025-01"), kr.values[-17:])
    return [*cuts, recent, tiny]


def cached_fits(root: Path) -> dict[str, np.ndarray]:
    """Every backtest fit in a fit cache, by its path under the root: its draws."""
    out = {}
    for path in sorted(root.rglob("*.npz")):
        with np.load(path) as npz:
            out[str(path.relative_to(root))] = npz["totals"]
    return out


def test_forecasts_on_a_local_dask_cluster_match_one_process(kr, tmp_path):
    """Each run has a fit cache of its own: the cluster makes every backtest fit `auto`
    learns from, rather than reading back the ones this process made."""
    many = panel(kr)
    here_cache, there_cache = tmp_path / "in-process", tmp_path / "dask"
    learning = Learning(first_year=2021, cache_dir=here_cache)
    here = forecast_many(many, None, n_paths=300, years=2, learning=learning)
    with dask_executor(workers=2) as executor:
        there = forecast_many(
            many,
            executor,
            n_paths=300,
            years=2,
            learning=replace(learning, cache_dir=there_cache),
        )
    assert [type(r) for r in there] == [type(r) for r in here]
    assert isinstance(there[-1], str) and "kr-tiny" in there[-1]
    for a, b in zip(here[:-1], there[:-1], strict=True):
        assert not isinstance(a, str) and not isinstance(b, str)
        assert a.series == b.series
        assert [y.median for y in a.years] == [y.median for y in b.years]
        assert a.weights == b.weights
    assert here[2].data_through == "2026-05" and here[2].weights is not None
    # The cluster fitted the same backtests itself, to the same draws.
    fitted_here, fitted_there = cached_fits(here_cache), cached_fits(there_cache)
    assert len(fitted_here) > 50 and fitted_there.keys() == fitted_here.keys()
    for name, draws in fitted_here.items():
        np.testing.assert_array_equal(fitted_there[name], draws)


def test_a_backtest_runs_on_the_cluster_as_in_process(kr):
    at = origins(kr, 2022, 2024, [3])
    local = backtest.run(kr, ["ets", "growth"], at, get_model, n_paths=200)
    with dask_executor(workers=2) as executor:
        remote = backtest.run(kr, ["ets", "growth"], at, get_model, n_paths=200, executor=executor)
    assert set(local) == set(remote) and len(local) == 6
    for key, fitted in local.items():
        assert (remote[key].totals == fitted.totals).all()


def test_the_service_sends_a_retrains_backtest_fits_to_its_cluster(data_dir):
    from distributed import Client, LocalCluster, get_task_stream
    from fastapi.testclient import TestClient

    from exportcast.models.prior.pooled import kernel_months
    from exportcast.service.main import create_app
    from tests.service_helpers import settings_for, wait_job, wait_ready
    from tests.test_many_series import copy_series

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as watcher,
        get_task_stream(watcher) as stream,
    ):
        settings = settings_for(data_dir, dask_scheduler=cluster.scheduler_address)
        with TestClient(create_app(settings)) as client:
            wait_ready(client, timeout=10)
            # seven years: learning needs three past years from its fourth on
            job = copy_series(client, "kr-on-dask", months=84)
            assert wait_job(client, job["id"], timeout=300)["status"] == "succeeded"
            learned = client.get("/v1/series/kr-on-dask/forecast").json()
    fits = [t for t in stream.data if t["key"].startswith("_task")]
    # 4 members at 2023-2025 and the months known around 9 (data through 2026-09): m = 7-11.
    assert len(fits) == 4 * 3 * len(kernel_months(9)) == 60
    assert learned["weights"] is not None
