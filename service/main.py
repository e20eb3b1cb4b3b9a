"""The FastAPI application: wiring only. Routes live in `service/api/routes/`, one module
per resource; what is served lives in `service/serving/`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from exportcast.models.datasets import (
    BUNDLED,
    bundled_text,
    load_bundled_destinations,
    load_bundled_flashes,
    load_bundled_items,
    load_bundled_references,
    load_bundled_releases,
)
from exportcast.models.hierarchy.items import hierarchy_of
from exportcast.models.series import Observation
from exportcast.models.simulation import Simulation
from exportcast.models.validate import check_rows, read_csv_rows
from exportcast.service.api.body_limit import BodySizeLimit
from exportcast.service.api.errors import HANDLERS
from exportcast.service.api.routes import (
    dashboard,
    docs,
    flashes,
    forecasts,
    health,
    hierarchies,
    jobs,
    login,
    markets,
    observations,
    references,
    series,
    track_record,
    versions,
)
from exportcast.service.config import Settings, get_settings
from exportcast.service.metrics import Metrics, RequestMetrics
from exportcast.service.serving.active import ActiveForecasts
from exportcast.service.serving.hierarchy_bodies import HierarchyBodies
from exportcast.service.serving.markets import MarketBodies
from exportcast.service.serving.polled import Answers, FrontDoor
from exportcast.service.store import HierarchyRecord, NotFound, Store, VersionRecord
from exportcast.service.store.connect import open_store
from exportcast.service.worker.hierarchy_fits import DEFAULT_METHOD
from exportcast.service.worker.loop import Worker
from exportcast.service.worker.retrain import TrainRequest, train

log = logging.getLogger("exportcast")

DESCRIPTION = """Annual export totals with honest intervals, from monthly data.

Forecasts are read from the active model version's stored sample paths; retraining runs in
a worker process after new observations arrive. Writes need `Authorization: Bearer <token>`.
"""


def bundled_hierarchy(series_id: str) -> tuple[list, list[HierarchyRecord]]:
    """The bundled series' items as (id, name, batch) series and the hierarchy over them."""
    items = load_bundled_items(series_id)
    if not items:
        return [], []
    hierarchy, by_node = hierarchy_of(f"{series_id}-items", series_id, items)
    members = [
        (s.id, s.name, [Observation(s.start + i, float(v)) for i, v in enumerate(s.values)])
        for s in by_node.values()
    ]
    record = HierarchyRecord(
        hierarchy.id,
        series_id,
        {node: s.id for node, s in by_node.items()},
        hierarchy.classification,
    )
    return members, [record]


def bootstrap_bundled(store: Store, series_id: str = "kr-exports", with_items: bool = True) -> bool:
    """An empty store gets the bundled series (with its items as series of their own and
    the hierarchy over them) and queued first retrains."""
    meta = BUNDLED[series_id]
    batch = check_rows(read_csv_rows(bundled_text(series_id)))
    members, declared = bundled_hierarchy(series_id) if with_items else ([], [])
    return store.bootstrap(
        meta.id,
        meta.name,
        meta.unit,
        meta.targets,
        batch,
        country=meta.country,
        flashes=load_bundled_flashes(series_id),
        references=load_bundled_references(series_id),
        members=members,
        hierarchies=declared,
        releases=load_bundled_releases(series_id),
        destinations=load_bundled_destinations(series_id),
    )


def bundled_destinations(store: Store, series_id: str = "kr-exports") -> bool:
    """A store filled before markets were served gets the bundled series' destinations
    once (a series that has any keeps its own)."""
    rows = load_bundled_destinations(series_id)
    try:
        if not rows or store.destinations_stamp(series_id) is not None:
            return False
        store.ingest_destinations(series_id, rows)
    except NotFound:  # the bundled series was deleted: nothing to add them to
        return False
    return True


class Service(FastAPI):
    """FastAPI with a front door: the reads it holds bytes for are answered before
    Starlette's middleware stack and FastAPI's routing (`serving.polled`)."""

    front: FrontDoor | None = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        front = self.front
        if front is not None and scope["type"] == "http" and await front.answer(scope, send):
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    train_fn: Callable[[TrainRequest], object] = train,
    run_jobs: bool = True,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.database())
        active = ActiveForecasts(store, settings.response_cache_size, settings.loaded_versions)
        app.state.store = store
        app.state.active = active
        if settings.bootstrap and await asyncio.to_thread(
            bootstrap_bundled, store, "kr-exports", settings.bootstrap_items
        ):
            log.info("empty store: loaded the bundled series; its first retrain is queued")
        elif settings.bootstrap and await asyncio.to_thread(bundled_destinations, store):
            log.info("loaded the bundled exports by destination into the stored series")
        await asyncio.to_thread(active.sync)  # restore served versions, no retraining
        markets = app.state.market_bodies

        def warm_markets(series_id: str) -> None:
            try:
                markets.warm(store, active, series_id)
            except Exception as exc:  # a read makes it instead, and says why it cannot
                log.warning("%s: the markets could not be made: %s", series_id, exc)

        for series_id in await asyncio.to_thread(store.destination_series):
            await asyncio.to_thread(warm_markets, series_id)
        # What start-up made (modules, the served versions) is kept for the process's life:
        # frozen out of the collector, whose full passes over it cost every request.
        gc.freeze()

        async def served(
            sim: Simulation, record: VersionRecord, targets: tuple[float, ...]
        ) -> None:
            await asyncio.to_thread(active.install, sim, record, targets)
            await asyncio.to_thread(warm_markets, record.series_id)

        tasks = [
            asyncio.create_task(active.follow(settings.poll_seconds)),
            asyncio.create_task(app.state.metrics.flush_every(1.0)),
            asyncio.create_task(app.state.hierarchy_bodies.follow(store, settings.poll_seconds)),
        ]
        runner = None
        if run_jobs:
            runner = Worker(
                store,
                settings,
                served,
                train_fn,  # type: ignore[arg-type]
                on_finished=app.state.metrics.job_finished,
                on_storing=active.expect,
                on_hierarchy=lambda _id: app.state.hierarchy_bodies.forget(),
            )
            tasks.append(asyncio.create_task(runner.run_forever()))
        app.state.runner = runner
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if runner is not None:
                runner.close()
            store.close()

    app = Service(
        title="exportcast",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from local assets below (routes/docs.py)
        redoc_url=None,
    )
    app.state.settings = settings
    # bytes made once per version and method
    app.state.hierarchy_bodies = HierarchyBodies(default_method=DEFAULT_METHOD)
    app.state.market_bodies = MarketBodies()  # ... per version, destination rows and question
    for exc_type, handler in HANDLERS.items():
        app.add_exception_handler(exc_type, handler)
    routers = (
        series,
        observations,
        flashes,
        references,
        forecasts,
        markets,
        hierarchies,
        track_record,
        versions,
        jobs,
        health,
        login,
    )
    for module in routers:
        app.include_router(module.router)
    docs.mount(app)
    dashboard.mount(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, settings=settings)
    app.state.metrics = Metrics(app.state)
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.state.answers = Answers(settings.response_cache_size)
    app.front = FrontDoor(app.state, app.state.answers)
    return app
