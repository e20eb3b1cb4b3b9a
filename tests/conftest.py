from __future__ import annotations

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
