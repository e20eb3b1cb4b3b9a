"""Backtest fits on disk, keyed by a hash of exactly the data each fit saw.

A revision of a month invalidates only the fits whose cut-off includes it; a re-run of the
same backtest reads every fit back instead of refitting.

Several processes (training slots, Dask workers, a second service) share one folder, so
each writer writes a temporary file of its own and renames it into place: a reader sees a
whole file or none. A file that cannot be read anyway (a disk filled mid-write, a copy cut
short) is deleted and counts as a miss, so the fit is made again instead of failing every
later retrain of the series.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from exportcast.models.evaluation.origins import Fitted, Origin
from exportcast.models.files import read_or_drop, write_atomic
from exportcast.models.series import MonthlySeries

CACHE_VERSION = "5"  # bump when a model changes, so cached fits are not reused


def cache_key(series: MonthlySeries, origin: Origin, model: str, n_paths: int, seed: int) -> str:
    # Not `models.digest`: its different bytes would miss every fit cached so far.
    seen = series.values[: origin.cutoff - series.start + 1]
    digest = hashlib.sha256()
    digest.update(f"{CACHE_VERSION}|{model}|{n_paths}|{seed}|{series.start}|".encode())
    digest.update(np.ascontiguousarray(seen, dtype=np.float64).tobytes())
    return digest.hexdigest()[:32]


def _read_fitted(file: BinaryIO) -> Fitted:
    with np.load(file, allow_pickle=False) as npz:
        errors = npz["recent_errors"] if "recent_errors" in npz.files else None
        ahead = npz["ahead"] if "ahead" in npz.files else None
        return Fitted(npz["totals"], float(npz["seconds"]), errors, ahead)


class FitCache:
    """A folder of `.npz` files, one per fit; `None` as the root caches nothing."""

    def __init__(self, root: Path | None):
        self.root = root

    def _path(self, key: str, model: str) -> Path:
        assert self.root is not None
        return self.root / model / f"{key}.npz"

    def get(self, key: str, model: str) -> Fitted | None:
        if self.root is None:
            return None
        return read_or_drop(self._path(key, model), _read_fitted)

    def put(self, key: str, model: str, fitted: Fitted) -> None:
        if self.root is None:
            return
        arrays = {"totals": fitted.totals, "seconds": np.array(fitted.seconds)}
        if fitted.recent_errors is not None:
            arrays["recent_errors"] = fitted.recent_errors
        if fitted.ahead is not None:
            arrays["ahead"] = fitted.ahead
        write_atomic(self._path(key, model), lambda out: np.savez(out, **arrays))
