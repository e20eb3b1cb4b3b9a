"""A hierarchy's versions, made off the request path: its nodes' series read from the
store, each node fitted only when its data changed (a node's paths are kept on disk by a
digest of what it was fitted on), then made coherent by every method and summarised.

A version is a pure function of the data and the settings (its `basis`), so any worker may
make it and a second one with the same basis is not stored."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from exportcast.models.core import fit_nodes, reconcile_nodes
from exportcast.models.evaluation.auto import Learning
from exportcast.models.hierarchy.forecast import summarise_hierarchy
from exportcast.models.hierarchy.reconcile import METHODS
from exportcast.models.hierarchy.spec import OTHER, TOTAL, Hierarchy, node_series
from exportcast.models.limits import DEFAULT_LEVELS, DEFAULT_YEARS
from exportcast.models.series import MonthlySeries
from exportcast.models.simulation import Simulation
from exportcast.service.store import HierarchyRecord, Store

log = logging.getLogger("exportcast.hierarchies")

DEFAULT_METHOD = "top_down"
# Part of every node key and basis: a release that changes how nodes are fitted or made
# coherent bumps it, so cached node paths and unchanged versions are not carried over.
NODE_CACHE_VERSION = "1"


@dataclass(frozen=True)
class HierarchyRequest:
    hierarchy: Hierarchy
    total: MonthlySeries
    items: dict[str, MonthlySeries]  # node -> the item's series (its stored id)
    targets: dict[str, tuple[float, ...]]
    model: str
    n_paths: int
    seed: int
    cache_dir: Path
    jobs: int = 1

    def nodes(self) -> dict[str, MonthlySeries]:
        return node_series(self.hierarchy, self.total, self.items)


def _digest(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"|")
    return digest.hexdigest()[:32]


def node_key(series: MonthlySeries, request: HierarchyRequest) -> str:
    """What a node's paths depend on: its data and the fit's settings."""
    return _digest(
        NODE_CACHE_VERSION,
        series.start,
        series.values,
        request.model,
        request.n_paths,
        request.seed,
    )


def basis(request: HierarchyRequest) -> str:
    """What a version depends on: every node's data, the settings and the declaration."""
    nodes = request.nodes()
    return _digest(
        NODE_CACHE_VERSION,
        request.hierarchy.to_dict(),
        {k: list(v) for k, v in sorted(request.targets.items())},
        [node_key(nodes[n], request) for n in request.hierarchy.nodes],
        list(METHODS),
    )


def _node_file(request: HierarchyRequest, node: str, key: str) -> Path:
    # "@" is in no node name, so one node's files never match another's pattern.
    return request.cache_dir / "hierarchies" / request.hierarchy.id / f"{node}@{key}.npz"


def _load_node(path: Path) -> Simulation | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return Simulation(
                **{k: v for k, v in meta.items() if k != "members"},
                members=tuple(meta["members"]),
                paths=data["paths"],
            )
    except (OSError, ValueError, KeyError):  # missing or unreadable: fitted again
        return None


def _save_node(path: Path, sim: Simulation) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "series_id": sim.series_id,
        "unit": sim.unit,
        "model": sim.model,
        "members": list(sim.members),
        "description": sim.description,
        "data_through": sim.data_through,
        "actual_to_date": sim.actual_to_date,
        "fit_seconds": sim.fit_seconds,
        "learned": sim.learned,
    }
    partial = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.partial.npz")
    np.savez(partial, paths=sim.paths.astype(np.float32), meta=json.dumps(meta, default=float))
    partial.replace(path)
    node = path.name.split("@")[0]
    for old in path.parent.glob(f"{node}@*.npz"):  # its paths for data since changed
        if old != path and not old.name.endswith(".partial.npz"):
            old.unlink(missing_ok=True)


def train_hierarchy(request: HierarchyRequest) -> dict:
    """Runs in a worker process: the version's body, every method's summary from the same
    node paths, refitting only the nodes whose data changed since the last version."""
    nodes = request.nodes()
    keys = {n: node_key(nodes[n], request) for n in request.hierarchy.nodes}
    fitted = {}
    for name, key in keys.items():
        sim = _load_node(_node_file(request, name, key))
        if sim is not None:
            fitted[name] = sim
    learning = (
        Learning(cache_dir=request.cache_dir, jobs=request.jobs)
        if request.model == "auto"
        else None
    )
    # The nodes not cached are fitted first and kept as the cache holds them (float32), so a
    # version made from fresh fits and one made from cached ones are the same numbers.
    h, model, seed = request.hierarchy, request.model, request.seed
    sims, refit = fit_nodes(h, nodes, model, DEFAULT_YEARS, request.n_paths, seed, learning, fitted)
    for name in refit:
        sims[name] = replace(sims[name], paths=sims[name].paths.astype(np.float32))
        _save_node(_node_file(request, name, keys[name]), sims[name])
    coherent = reconcile_nodes(h, nodes, sims, model, METHODS, seed, learning)
    bodies = {
        method: summarise_hierarchy(
            c, nodes, DEFAULT_YEARS, DEFAULT_LEVELS, request.targets
        ).to_dict()
        for method, c in coherent.items()
    }
    return {
        "data_through": int(nodes[OTHER].end),
        "refit": refit,
        "series": {TOTAL: request.total.id, **{n: s.id for n, s in request.items.items()}},
        "methods": bodies,
    }


def _series(store: Store, series_id: str) -> MonthlySeries:
    record = store.get_series(series_id)
    stored = store.observations(series_id)
    if not stored:
        raise ValueError(f"series {series_id!r} has no observations")
    values = np.array([o.value for o in stored])
    return MonthlySeries(series_id, record.unit, stored[0].month, values, record.name)


def request_for(
    store: Store,
    record: HierarchyRecord,
    model: str,
    n_paths: int,
    seed: int,
    cache_dir: Path,
    jobs: int = 1,
) -> HierarchyRequest:
    """Read in the service process (blocking: call it in a thread)."""
    total = _series(store, record.total_series)
    items = {node: _series(store, sid) for node, sid in record.items.items()}
    hierarchy = Hierarchy(record.id, record.total_series, record.classification, tuple(items))
    targets: Mapping[str, list[float]] = record.targets or {
        TOTAL: list(store.get_series(record.total_series).targets)
    }
    return HierarchyRequest(
        hierarchy,
        total,
        items,
        {k: tuple(v) for k, v in targets.items()},
        model,
        n_paths,
        seed,
        cache_dir,
        jobs,
    )
