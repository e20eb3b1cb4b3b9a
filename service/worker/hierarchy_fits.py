"""A hierarchy's versions, made off the request path: its nodes' series read from the
store, each node fitted only when its data changed (a node's paths are kept on disk by a
digest of what it was fitted on), then made coherent by every method and summarised.

A version is a pure function of the data and the settings (its `basis`), so any worker may
make it and a second one with the same basis is not stored."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from exportcast.models.core import fit_nodes, reconcile_nodes
from exportcast.models.digest import digest
from exportcast.models.evaluation.auto import Learning
from exportcast.models.hierarchy.forecast import summarise_hierarchy
from exportcast.models.hierarchy.reconcile import METHODS
from exportcast.models.hierarchy.spec import OTHER, TOTAL, Hierarchy, node_series
from exportcast.models.limits import DEFAULT_LEVELS, DEFAULT_YEARS
from exportcast.models.series import MonthlySeries, format_month
from exportcast.models.simulation import Simulation
from exportcast.service import artifacts
from exportcast.service.series_data import series_from_store
from exportcast.service.serving.hierarchy_bodies import hierarchy_out
from exportcast.service.store import HierarchyRecord, Store

log = logging.getLogger("exportcast.hierarchies")

DEFAULT_METHOD = "top_down"
# Part of every node key and basis: a release that changes how nodes are fitted or made
# coherent bumps it, so cached node paths and unchanged versions are not carried over.
# 2: nodes saved as `artifacts` saves any simulation, read back as float64.
NODE_CACHE_VERSION = "2"


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


def node_key(series: MonthlySeries, request: HierarchyRequest) -> str:
    """What a node's paths depend on: its data and the fit's settings."""
    return digest(
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
    return digest(
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
    """A node's saved simulation; None when missing or unreadable (then fitted again)."""
    return artifacts.read_file(path)


def _save_node(path: Path, sim: Simulation) -> None:
    """Saved in place of the node's paths for data since changed."""
    artifacts.write_file(path, sim)
    node = path.name.split("@")[0]
    for old in path.parent.glob(f"{node}@*.npz"):  # temporaries end in .tmp: never matched
        if old != path:
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
    # The nodes not cached are fitted first and kept as the cache gives them back (paths
    # through float32), so a version made from fresh fits and one from cached ones agree.
    h, model, seed = request.hierarchy, request.model, request.seed
    sims, refit = fit_nodes(h, nodes, model, DEFAULT_YEARS, request.n_paths, seed, learning, fitted)
    for name in refit:
        sims[name] = artifacts.as_stored(sims[name])
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


def check_hierarchy_body(body: dict) -> None:
    """Refuse (ValueError, naming what is wrong) a version's body that its readers could
    not be answered from: checked once, when it is stored, not on every read."""
    for key, kind in (("data_through", int), ("refit", list), ("series", dict), ("methods", dict)):
        if not isinstance(body.get(key), kind):
            raise ValueError(f"hierarchy body: {key!r} is not a {kind.__name__}")
    methods = body["methods"]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or DEFAULT_METHOD not in methods:
        raise ValueError(
            f"hierarchy body: methods {sorted(methods)} (unknown: {unknown}; "
            f"{DEFAULT_METHOD} is needed)"
        )
    for method in methods:
        try:
            out = hierarchy_out(body, method, version=1, created_at="")
        except ValidationError as exc:
            wrong = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
            )
            raise ValueError(f"hierarchy body, method {method!r}: {wrong}") from None
        if out.method != method:
            raise ValueError(f"hierarchy body: method {method!r} holds {out.method!r}'s summary")
        if out.data_through != format_month(body["data_through"]):
            raise ValueError(
                f"hierarchy body, method {method!r}: data through {out.data_through}, "
                f"the version's through {format_month(body['data_through'])}"
            )
        if not set(body["series"]) <= set(out.nodes):
            raise ValueError(f"hierarchy body, method {method!r}: series of nodes it lacks")


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
    total_record = store.get_series(record.total_series)
    total = series_from_store(store, record.total_series, total_record)
    items = {node: series_from_store(store, sid) for node, sid in record.items.items()}
    hierarchy = Hierarchy(record.id, record.total_series, record.classification, tuple(items))
    targets: Mapping[str, list[float]] = record.targets or {TOTAL: list(total_record.targets)}
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
