"""The one way a simulation is saved and read back: a model version's paths in the store,
a hierarchy node's paths in the fit cache.

Paths are kept as float32 (7 significant digits, far below the data's revisions) in an
npz, with which member drew each and, in `meta`, every other field of the simulation, so a
file alone gives the whole simulation (the node cache has no version record). Not
compressed: simulated paths shrank by 8% for 0.15 s of the server's CPU per version, which
with a thousand series retraining was a fifth of the server's time. `np.load` reads both, so
versions stored compressed by earlier releases still load; those (formats 1 and 2) carried
only the unit and the year's actual to date, and read the rest from their version record.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from exportcast.models.files import read_or_drop, write_atomic
from exportcast.models.simulation import Simulation
from exportcast.service.store import VersionRecord

FORMAT = 3  # 3: meta carries every field, so no record is needed to read it
READABLE = (1, 2, 3)  # 1 and 2 carried only unit and actual_to_date: the rest is the record's


def _plain(value: Any) -> Any:
    """numpy scalars and arrays in `learned` as the JSON numbers and lists they hold."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be stored in an artifact's meta")


def _meta(sim: Simulation) -> dict[str, Any]:
    """Every field but the arrays, as JSON reads it back (tuples as lists, numpy as Python)."""
    meta = {
        "format": FORMAT,
        "series_id": sim.series_id,
        "unit": sim.unit,
        "model": sim.model,
        "members": list(sim.members),
        "description": sim.description,
        "data_through": sim.data_through,
        "actual_to_date": sim.actual_to_date,
        "fit_seconds": sim.fit_seconds,
        "learned": sim.learned,
        "published": sim.published,
    }
    return json.loads(json.dumps(meta, default=_plain))


def _labels(sim: Simulation) -> np.ndarray:
    labels = sim.labels if sim.labels is not None else np.zeros(sim.n_paths, dtype=np.int8)
    return labels.astype(np.int8)


def _simulation(meta: dict, paths: np.ndarray, labels: np.ndarray) -> Simulation:
    return Simulation(
        series_id=meta["series_id"],
        unit=meta["unit"],
        model=meta["model"],
        members=tuple(meta["members"]),
        description=meta["description"],
        data_through=meta["data_through"],
        actual_to_date=meta["actual_to_date"],
        paths=paths,
        labels=labels,
        fit_seconds=meta["fit_seconds"],
        learned=meta["learned"],
        published=None if meta.get("published") is None else np.asarray(meta["published"]),
    )


def to_bytes(sim: Simulation) -> bytes:
    buffer = io.BytesIO()
    _write(buffer, sim)
    return buffer.getvalue()


def _write(out: BinaryIO, sim: Simulation) -> None:
    meta = json.dumps(_meta(sim)).encode()
    np.savez(
        out,
        paths=sim.paths.astype(np.float32),
        labels=_labels(sim),
        meta=np.frombuffer(meta, dtype=np.uint8),
    )


def from_bytes(
    data: bytes | memoryview | BinaryIO, record: VersionRecord | None = None
) -> Simulation:
    """The simulation saved by `to_bytes`; artifacts of formats 1 and 2 need their version
    `record` for the fields they did not carry (a format 3 one is read from itself)."""
    source = data if hasattr(data, "read") else io.BytesIO(data)
    with np.load(source, allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes())
        found = meta.get("format") if isinstance(meta, dict) else None
        if found not in READABLE:
            raise ValueError(f"unknown artifact format {found!r}")
        paths = npz["paths"].astype(np.float64)
        labels = npz["labels"]
    if found == FORMAT:
        return _simulation(meta, paths, labels)
    if record is None:
        raise ValueError(f"an artifact of format {found} is read with its version record")
    from_record = {
        "series_id": record.series_id,
        "model": record.model,
        "members": record.members,
        "description": record.description,
        "data_through": record.data_through,
        "fit_seconds": record.fit_seconds,
        "learned": dict(record.learned),
    }
    return _simulation({**meta, **from_record}, paths, labels)


def as_stored(sim: Simulation) -> Simulation:
    """Exactly what `from_bytes(to_bytes(sim))` gives, made in memory: the paths rounded
    to float32 and back, so a version served before a restart and after it are the same
    numbers (and the same bytes under the same ETag)."""
    paths = sim.paths.astype(np.float32).astype(np.float64)
    return _simulation(_meta(sim), paths, _labels(sim))


def write_file(path: Path, sim: Simulation) -> None:
    """Saved under a temporary name of its own, then renamed over `path`: readers and
    other writers never see half a file."""
    write_atomic(path, lambda out: _write(out, sim))


def read_file(path: Path) -> Simulation | None:
    """None when missing; a file that cannot be read whole is deleted (logged once) and is
    a miss too, so it is made again rather than failing every later read."""
    return read_or_drop(path, from_bytes)
