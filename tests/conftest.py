from __future__ import annotations

import os
import shutil
from pathlib import Path

from exportcast.models.parallel import single_threaded_blas

# Before numpy loads its BLAS: the tests fit in this process too, and on two cores a BLAS
# that spreads every small matrix over threads runs slower, as in the service's workers.
single_threaded_blas()

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from exportcast.models.datasets import load_bundled  # noqa: E402
from exportcast.models.series import MonthlySeries  # noqa: E402


@pytest.fixture(scope="session")
def kr() -> MonthlySeries:
    return load_bundled("kr-exports")


@pytest.fixture(scope="session", autouse=True)
def fit_cache(tmp_path_factory) -> Path:
    """One cache of backtest fits for the whole run: the engine, the CLI and the service
    (in-process and as a subprocess) all learn `auto` from the same past, so it is fitted
    once. Set through the environment, as a deployment would."""
    root = tmp_path_factory.mktemp("fit-cache")
    previous = os.environ.get("EXPORTCAST_CACHE_DIR")
    os.environ["EXPORTCAST_CACHE_DIR"] = str(root)
    yield root
    if previous is None:
        os.environ.pop("EXPORTCAST_CACHE_DIR", None)
    else:
        os.environ["EXPORTCAST_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def learning(fit_cache):
    from exportcast.models.evaluation.auto import Learning

    return Learning(cache_dir=fit_cache / "kr-exports")


def synthetic(n_months: int = 120, seed: int = 0, start: int = 2010 * 12) -> MonthlySeries:
    """A trending seasonal series with noise, positive by construction."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_months)
    log_y = 10 + 0.004 * t + 0.08 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.03, n_months)
    return MonthlySeries("synthetic", "units", start, np.exp(log_y))


@pytest.fixture(scope="session")
def synthetic_series() -> MonthlySeries:
    return synthetic()


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory) -> Path:
    """A store with the bundled series trained once; tests take copies."""
    from fastapi.testclient import TestClient

    from exportcast.service.main import create_app
    from tests.service_helpers import settings_for, wait_ready

    data = tmp_path_factory.mktemp("trained")
    with TestClient(create_app(settings_for(data))) as client:
        # A first start learns `auto` from ~200 backtest fits: generous, for a busy machine.
        wait_ready(client, timeout=400)
    return data


@pytest.fixture
def data_dir(trained_store, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(trained_store, target)
    return target
