"""A model version as stored: its sample paths and what is needed to read totals from them.

Paths are kept as float32 (7 significant digits, far below the data's revisions) in a
compressed npz, so a version restores without refitting.
"""

from __future__ import annotations

import io
import json

import numpy as np

from models.core import Simulation

FORMAT = 1


def dump(sim: Simulation) -> bytes:
    meta = {
        "format": FORMAT,
        "series_id": sim.series_id,
        "unit": sim.unit,
        "model": sim.model,
        "members": list(sim.members),
        "description": sim.description,
        "data_through": sim.data_through,
        "actual_to_date": sim.actual_to_date,
        "seed": sim.seed,
        "fit_seconds": sim.fit_seconds,
        "info": sim.info,
    }
    labels = sim.labels if sim.labels is not None else np.zeros(sim.n_paths, dtype=np.int8)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        paths=sim.paths.astype(np.float32),
        labels=labels.astype(np.int8),
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    )
    return buffer.getvalue()


def load(data: bytes) -> Simulation:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        meta = json.loads(npz["meta"].tobytes())
        if meta.get("format") != FORMAT:
            raise ValueError(f"unknown artifact format {meta.get('format')!r}")
        paths = npz["paths"].astype(np.float64)
        labels = npz["labels"]
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
        seed=meta["seed"],
        fit_seconds=meta["fit_seconds"],
        info=meta["info"],
    )
