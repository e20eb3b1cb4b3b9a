"""A model version's paths as stored, so a version restores without refitting.

Paths are kept as float32 (7 significant digits, far below the data's revisions) in an
npz, with which member drew each and the little needed to read totals from them. Not
compressed: simulated paths shrank by 8% for 0.15 s of the server's CPU per version, which
with a thousand series retraining was a fifth of the server's time. `np.load` reads both, so
versions stored compressed by earlier releases still load. Everything else about the
version (model, members, what `auto` learned) lives once, in the store's version record.
"""

from __future__ import annotations

import io
import json

import numpy as np

from exportcast.models.simulation import Simulation
from exportcast.service.store import VersionRecord

FORMAT = 2
READABLE = (1, 2)  # format 1 also carried the record's fields; they are read from the record
RECORD_ONLY = ("n_paths", "horizon")  # in the record's info, not learned by the model


def dump(sim: Simulation) -> bytes:
    meta = {"format": FORMAT, "unit": sim.unit, "actual_to_date": sim.actual_to_date}
    labels = sim.labels if sim.labels is not None else np.zeros(sim.n_paths, dtype=np.int8)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        paths=sim.paths.astype(np.float32),
        labels=labels.astype(np.int8),
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    )
    return buffer.getvalue()


def load(data: bytes, record: VersionRecord) -> Simulation:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes())
        if meta.get("format") not in READABLE:
            raise ValueError(f"unknown artifact format {meta.get('format')!r}")
        paths = npz["paths"].astype(np.float64)
        labels = npz["labels"]
    return Simulation(
        series_id=record.series_id,
        unit=meta["unit"],
        model=record.model,
        members=tuple(record.members),
        description=record.description,
        data_through=record.data_through,
        actual_to_date=meta["actual_to_date"],
        paths=paths,
        labels=labels,
        fit_seconds=record.fit_seconds,
        learned={k: v for k, v in record.info.items() if k not in RECORD_ONLY},
    )
