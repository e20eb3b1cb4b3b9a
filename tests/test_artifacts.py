"""A version's paths survive the store as they were drawn (to float32), in the format this
release writes and in the compressed one earlier releases wrote."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from exportcast.models.core import simulate
from exportcast.service import artifacts
from exportcast.service.training import version_record


@pytest.fixture(scope="module")
def sim(kr):
    return simulate(kr, "ets", years=2, n_paths=200)


def test_paths_come_back_as_drawn_to_float32(sim):
    record = version_record(sim, "2026-06-01T00:00:00Z", version=1)
    back = artifacts.load(artifacts.dump(sim), record)
    np.testing.assert_array_equal(back.paths, sim.paths.astype(np.float32).astype(np.float64))
    assert back.actual_to_date == sim.actual_to_date and back.unit == sim.unit
    assert back.data_through == sim.data_through and back.model == "ets"


def test_a_compressed_artifact_of_an_earlier_release_still_loads(sim):
    record = version_record(sim, "2026-06-01T00:00:00Z", version=1)
    written = io.BytesIO()
    meta = {"format": 2, "unit": sim.unit, "actual_to_date": sim.actual_to_date}
    np.savez_compressed(
        written,
        paths=sim.paths.astype(np.float32),
        labels=np.zeros(sim.n_paths, dtype=np.int8),
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    )
    old = artifacts.load(written.getvalue(), record)
    new = artifacts.load(artifacts.dump(sim), record)
    np.testing.assert_array_equal(old.paths, new.paths)


def test_an_unknown_format_is_refused(sim):
    record = version_record(sim, "2026-06-01T00:00:00Z", version=1)
    written = io.BytesIO()
    meta = {"format": 99, "unit": "u", "actual_to_date": 0.0}
    np.savez(
        written,
        paths=np.ones((2, 2), np.float32),
        labels=np.zeros(2, np.int8),
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    )
    with pytest.raises(ValueError, match="format 99"):
        artifacts.load(written.getvalue(), record)
