"""A version's paths survive the store as they were drawn (to float32), in the format this
release writes and in the compressed one earlier releases wrote; the bytes alone give the
whole simulation (the hierarchy node cache has no record); a broken file is a miss."""

from __future__ import annotations

import io
import json
from dataclasses import fields, replace

import numpy as np
import pytest

from exportcast.models.core import simulate
from exportcast.models.simulation import Simulation
from exportcast.service import artifacts
from exportcast.service.store import VersionRecord
from exportcast.service.worker.retrain import version_of


def version_record(sim: Simulation, created_at: str, version: int) -> VersionRecord:
    """The store's record of a version, as the worker makes it."""
    return version_of(sim, created_at, version)[0]


@pytest.fixture(scope="module")
def sim(kr):
    return simulate(kr, "ets", years=2, n_paths=200)


def test_paths_come_back_as_drawn_to_float32(sim):
    record = version_record(sim, "2026-06-01T00:00:00Z", version=1)
    back = artifacts.from_bytes(artifacts.to_bytes(sim), record)
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
    old = artifacts.from_bytes(written.getvalue(), record)
    new = artifacts.from_bytes(artifacts.to_bytes(sim), record)
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
        artifacts.from_bytes(written.getvalue(), record)


def odd_learned(sim):
    """The simulation with labels and what an ensemble learns, in the types models give
    (numpy scalars and arrays, tuples), which JSON turns into Python numbers and lists."""
    labels = np.arange(sim.n_paths) % 3
    learned = {"weights": np.array([0.5, 0.25, 0.25]), "scale": np.float64(1.25), "n": (1, 2)}
    return replace(sim, members=("ets", "sarima", "growth"), labels=labels, learned=learned)


def test_as_stored_is_what_loading_the_dumped_bytes_gives(sim):
    for made in (sim, odd_learned(sim)):
        record = version_record(made, "2026-06-01T00:00:00Z", version=1)
        loaded = artifacts.from_bytes(artifacts.to_bytes(made), record)
        kept = artifacts.as_stored(made)
        for name in (f.name for f in fields(Simulation)):
            a, b = getattr(kept, name), getattr(loaded, name)
            if isinstance(a, np.ndarray):
                assert a.dtype == b.dtype, name
                np.testing.assert_array_equal(a, b, err_msg=name)
            else:
                assert a == b and type(a) is type(b), name
    assert artifacts.as_stored(odd_learned(sim)).learned == {
        "weights": [0.5, 0.25, 0.25],
        "scale": 1.25,
        "n": [1, 2],
    }


def test_the_bytes_alone_give_the_whole_simulation(sim):
    made = odd_learned(sim)
    back = artifacts.from_bytes(artifacts.to_bytes(made))  # no version record
    assert (back.series_id, back.model, back.members) == (made.series_id, "ets", made.members)
    assert back.description == made.description and back.fit_seconds == made.fit_seconds
    assert back.data_through == made.data_through and back.learned["scale"] == 1.25
    np.testing.assert_array_equal(back.labels, made.labels)


def test_an_earlier_format_needs_its_record(sim):
    record = version_record(sim, "2026-06-01T00:00:00Z", version=1)
    written = io.BytesIO()
    meta = {"format": 2, "unit": sim.unit, "actual_to_date": sim.actual_to_date}
    np.savez(
        written,
        paths=sim.paths.astype(np.float32),
        labels=np.zeros(sim.n_paths, dtype=np.int8),
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    )
    with pytest.raises(ValueError, match="version record"):
        artifacts.from_bytes(written.getvalue())
    old = artifacts.from_bytes(written.getvalue(), record)
    assert old.model == "ets" and old.learned == record.learned  # the record's


def test_a_file_is_written_whole_and_a_broken_one_is_a_miss(sim, tmp_path):
    path = tmp_path / "node@key.npz"
    assert artifacts.read_file(path) is None
    artifacts.write_file(path, sim)
    assert [p.name for p in tmp_path.iterdir()] == ["node@key.npz"]  # no temporary left
    back = artifacts.read_file(path)
    assert back is not None
    np.testing.assert_array_equal(back.paths, artifacts.as_stored(sim).paths)
    path.write_bytes(path.read_bytes()[:1000])  # cut short
    assert artifacts.read_file(path) is None and not path.exists()  # dropped: made again
