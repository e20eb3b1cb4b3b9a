from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from models.series import MonthlySeries, load_bundled


@pytest.fixture(scope="session")
def kr() -> MonthlySeries:
    return load_bundled("kr-exports")


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

    from service.app import create_app
    from tests.service_helpers import settings_for, wait_ready

    data = tmp_path_factory.mktemp("trained")
    with TestClient(create_app(settings_for(data))) as client:
        wait_ready(client)
    return data


@pytest.fixture
def data_dir(trained_store, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(trained_store, target)
    return target
