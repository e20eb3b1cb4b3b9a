"""What the service needs from storage, independent of the database behind it.

Observations are never overwritten: a revision closes the current row (`superseded_at`)
and adds a new one, so any past vintage can be read back with `as_of`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from exportcast.models.markets.destinations import DestinationRow
from exportcast.models.nowcast.flashes import Flash
from exportcast.models.references import Reference
from exportcast.models.releases import Release
from exportcast.models.series import Observation


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """Fixed-width UTC text, so timestamps order correctly as strings in any database."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def moment(text: str) -> datetime:
    """The moment a `stamp` names."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


class StoreUnavailable(RuntimeError):
    """The store cannot be trusted with a read or a write: its file is gone, replaced,
    read-only or corrupt. Answered 503 with this reason; nothing is acknowledged."""


class QuietRepeats:
    """Logs a loop's failure once, then again only when it changes or a minute has passed:
    a poll every quarter second would otherwise print the same traceback four times a
    second while the store is unavailable."""

    def __init__(self, logger: Any, every: float = 60.0):
        self.logger = logger
        self.every = every
        self._last: tuple[str, float] | None = None

    def failed(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        text = f"{type(exc).__name__}: {exc}"
        if self._last is not None and self._last[0] == text and now - self._last[1] < self.every:
            return
        self._last = (text, now)
        if isinstance(exc, StoreUnavailable):
            self.logger.error("%s: %s", what, exc)
        else:
            self.logger.error("%s", what, exc_info=exc)


@dataclass(frozen=True)
class SeriesRecord:
    id: str
    name: str
    unit: str
    targets: tuple[float, ...] = ()
    first_month: int | None = None
    last_month: int | None = None
    n_observations: int = 0
    active_version: int | None = None
    country: str | None = None  # whose working days and holidays flashes are read with


@dataclass(frozen=True)
class StoredObservation:
    month: int
    value: float
    recorded_at: str


@dataclass(frozen=True)
class IngestOutcome:
    accepted: int
    new_months: list[int]
    revised_months: list[int]
    unchanged_months: list[int]
    job_id: int | None


@dataclass(frozen=True)
class StoredFlash:
    month: int
    period: str
    value: float
    recorded_at: str


@dataclass(frozen=True)
class FlashOutcome:
    accepted: int
    new: list[tuple[int, str]]  # (month, period)
    revised: list[tuple[int, str]]
    unchanged: list[tuple[int, str]]
    job_id: int | None


@dataclass(frozen=True)
class StoredDestination:
    period: str  # "YYYY" or "YYYY-MM"
    destination: str
    value: float
    recorded_at: str


@dataclass(frozen=True)
class DestinationOutcome:
    accepted: int
    new: list[tuple[str, str]]  # (period, destination)
    revised: list[tuple[str, str]]
    unchanged: list[tuple[str, str]]


@dataclass(frozen=True)
class StoredReference:
    reference: Reference
    recorded_at: str


@dataclass(frozen=True)
class ReferenceOutcome:
    accepted: int
    new: list[tuple]  # (forecaster, published, year)
    revised: list[tuple]
    unchanged: list[tuple]


@dataclass(frozen=True)
class Job:
    id: int
    series_id: str
    status: str  # queued, running, succeeded, failed
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    model_version: int | None = None
    error: str | None = None
    attempts: int = 0  # times a worker has started it; a job whose worker died is re-run


class LeaseLost(RuntimeError):
    """The job is no longer this worker's (its lease expired and it was queued again, or it
    was finished): nothing of the run may be stored."""


@dataclass(frozen=True)
class Lease:
    """A running job as one claim holds it; writes made under it are refused once lost. The
    attempt tells two claims by the same worker apart: a run whose lease lapsed and whose
    job its own worker claimed again holds nothing."""

    job_id: int
    worker: str
    attempt: int


@dataclass(frozen=True)
class VersionRecord:
    """What the store keeps about a model version besides its paths."""

    series_id: str
    version: int
    created_at: str
    data_through: int
    model: str
    members: tuple[str, ...]
    description: str
    fit_seconds: float
    learned: dict = field(default_factory=dict)  # what the model learned (weights, ...)
    n_paths: int = 0
    horizon: int = 0  # months drawn past the last published one
    has_moves: bool = False  # why it moved from the version before is stored


@dataclass(frozen=True)
class YearPoint:
    """What one version said of one year: its projection (`live`), or one of the backtest
    points it learned from (`backtest`, at that point's own data)."""

    version: int
    created_at: str
    data_through: int  # the version's data
    source: str
    body: dict


@dataclass(frozen=True)
class VersionPoints:
    """A version's points on each year, stored beside it and read one year at a time."""

    projections: list[dict] = field(default_factory=list)  # one per year, with "year"
    backtest: list[dict] = field(default_factory=list)  # with "year" and "data_through"
    moves: dict | None = None  # why it moved from the version before (`models.moves`)


@dataclass(frozen=True)
class HierarchyRecord:
    """A declared hierarchy: a total series over item series (by node name), with the
    targets to give P(at least) for, and its latest computed version, if any."""

    id: str
    total_series: str
    items: dict[str, str]  # node name -> series id
    classification: str = ""
    targets: dict[str, list[float]] = field(default_factory=dict)  # node -> amounts
    created_at: str = ""
    version: int | None = None
    data_through: int | None = None
    basis: str | None = None  # digest of the data and settings the version was made from
    problem: str | None = None  # why the last update failed (None once one succeeds)

    def series_ids(self) -> list[str]:
        return [self.total_series, *self.items.values()]

    def spec(self) -> dict[str, Any]:
        return {
            "total_series": self.total_series,
            "items": dict(self.items),
            "classification": self.classification,
            "targets": {k: list(v) for k, v in self.targets.items()},
        }

    @classmethod
    def from_spec(
        cls,
        id: str,
        spec: dict[str, Any],
        created_at: str,
        version: int | None = None,
        data_through: int | None = None,
        basis: str | None = None,
    ) -> HierarchyRecord:
        return cls(
            id,
            spec["total_series"],
            dict(spec["items"]),
            spec.get("classification", ""),
            {k: list(v) for k, v in spec.get("targets", {}).items()},
            created_at,
            version,
            data_through,
            basis,
        )


class Store(Protocol):
    """Storage of series, observation vintages, retrain jobs and model versions."""

    def create_series(
        self,
        id: str,
        name: str,
        unit: str,
        targets: Sequence[float] = (),
        country: str | None = None,
        max_series: int | None = None,
    ) -> SeriesRecord:
        """A new series; Conflict if the id is taken or the store already holds
        `max_series` (checked in the same transaction, so concurrent creates cannot pass)."""
        ...

    def list_series(self, limit: int | None = None, after: str | None = None) -> list[SeriesRecord]:
        """Series in id order; at most `limit`, and only ids after `after` (a page)."""
        ...

    def get_series(self, id: str) -> SeriesRecord: ...

    def observations(self, id: str, as_of: datetime | None = None) -> list[StoredObservation]: ...

    def ingest(
        self, id: str, batch: Sequence[Observation], queue_retrain: bool = True
    ) -> IngestOutcome:
        """Store the batch in one transaction (or nothing, raising SeriesError)."""
        ...

    def flashes(self, id: str, as_of: datetime | None = None) -> list[StoredFlash]:
        """Partial-month figures, current or as known at `as_of`; a flash stays when its
        full month arrives (it is what the ratio of full months to flashes learns from)."""
        ...

    def ingest_flashes(
        self, id: str, batch: Sequence[Flash], queue_retrain: bool = True
    ) -> FlashOutcome:
        """Store the flashes in one transaction (or none, raising SeriesError): none for a
        month past the one after the last published, none breaking 1-10 <= 1-20."""
        ...

    def references(self, id: str, as_of: datetime | None = None) -> list[StoredReference]:
        """Outside forecasts of the series' annual totals, current or as known at `as_of`."""
        ...

    def ingest_references(self, id: str, batch: Sequence[Reference]) -> ReferenceOutcome:
        """Store a checked batch of outside forecasts in one transaction (a (forecaster,
        published, year) already stored with another value or source is a revision)."""
        ...

    def destinations(self, id: str, as_of: datetime | None = None) -> list[StoredDestination]:
        """Exports by destination (partner-year and partner-month rows), current or as known
        at `as_of`."""
        ...

    def ingest_destinations(self, id: str, batch: Sequence[DestinationRow]) -> DestinationOutcome:
        """Store a checked batch of destination rows in one transaction (a (period,
        destination) already stored with another value is a revision, the old kept as a
        vintage). They queue no retrain: markets are made from them at read time."""
        ...

    def destination_series(self) -> list[str]:
        """The series that have destination rows."""
        ...

    def destinations_stamp(self, id: str) -> str | None:
        """Names the destination rows as stored now (it changes with any new or revised
        row); None for a series without any."""
        ...

    def put_track(self, id: str, data_key: str, points: Sequence[dict]) -> None:
        """Replace the series' backtest track record (made from the data `data_key` digests)."""
        ...

    def track(self, id: str) -> list[dict]:
        """The series' backtest track record at every months-known ([] until made)."""
        ...

    def track_key(self, id: str) -> str | None:
        """The digest of the data the stored backtest track record was made from."""
        ...

    def delete_series(self, id: str) -> None:
        """The series with every vintage, flash, job and model version, in one transaction."""
        ...

    def bootstrap(
        self,
        id: str,
        name: str,
        unit: str,
        targets: Sequence[float],
        batch: Sequence[Observation],
        country: str | None = None,
        flashes: Sequence[Flash] = (),
        references: Sequence[Reference] = (),
        members: Sequence[tuple[str, str, Sequence[Observation]]] = (),
        hierarchies: Sequence[HierarchyRecord] = (),
        releases: Sequence[Release] = (),
        destinations: Sequence[DestinationRow] = (),
    ) -> bool:
        """Create and fill a series (with `members`, (id, name, batch) series in its unit,
        and `hierarchies` over them) and queue their first retrains, once, if the store
        is empty; all in one transaction. With `releases`, the months and flashes they
        cover are stored as they were published, each vintage at its date (the months
        before them as of the first release), so `as_of` reads give what was known then."""
        ...

    def put_hierarchy(self, record: HierarchyRecord) -> None:
        """Declare (or re-declare) a hierarchy; NotFound if one of its series is missing. A
        changed declaration drops the versions made for the old one."""
        ...

    def hierarchies(self) -> list[HierarchyRecord]: ...

    def get_hierarchy(self, id: str) -> HierarchyRecord: ...

    def add_hierarchy_version(
        self, id: str, basis: str, data_through: int, body: dict, spec: dict | None = None
    ) -> int | None:
        """Store a computed version (numbered 1, 2, ...); None, storing nothing, when the
        latest was made from the same `basis` or from data through a later month, or when
        the hierarchy's declaration is no longer `spec` (the one it was made for)."""
        ...

    def hierarchy_failed(self, id: str, problem: str) -> None:
        """Record why an update failed; the next version stored clears it."""
        ...

    def hierarchy_body(self, id: str, version: int) -> tuple[str, dict]:
        """(created_at, body) of a stored hierarchy version."""
        ...

    def busy_series(self) -> set[str]:
        """Series with a retrain queued or running."""
        ...

    def queue_job(self, series_id: str) -> Job:
        """A retrain of the series with the data it has (the one already queued, if any):
        the refined version that follows one served from the fits at hand."""
        ...

    def claim_job(
        self,
        worker: str,
        lease_seconds: float,
        max_attempts: int = 3,
        backoff_seconds: float = 5.0,
    ) -> Job | None:
        """The oldest runnable queued job, now running for `worker`. A running job whose
        worker stopped heartbeating for `lease_seconds` is queued again (after a backoff
        that doubles with each attempt) until it has been started `max_attempts` times,
        then failed with the reason."""
        ...

    def heartbeat(self, lease: Lease) -> bool:
        """Renew the lease; False when the job is no longer this worker's (it must stop)."""
        ...

    def finish_job(
        self,
        job_id: int,
        status: str,
        version: int | None = None,
        error: str | None = None,
        lease: Lease | None = None,
    ) -> Job:
        """Mark a job finished; under a `lease`, only while the worker still holds it
        (LeaseLost otherwise, and nothing is written)."""
        ...

    def get_job(self, job_id: int) -> Job: ...

    def add_version(
        self,
        record: VersionRecord,
        artifact: bytes,
        points: VersionPoints,
        serve: bool,
        lease: Lease | None = None,
    ) -> int:
        """Store a version (numbered 1, 2, ...) with its points, serving it if `serve`; under
        a `lease`, only while the worker still holds the job (LeaseLost otherwise)."""
        ...

    def serve_version(self, series_id: str, version: int) -> None:
        """Make a stored version the one served (a rollback or forward)."""
        ...

    def versions(
        self, series_id: str, limit: int | None = None, before: int | None = None
    ) -> list[VersionRecord]:
        """Records newest first; at most `limit`, numbered below `before` (a page)."""
        ...

    def version(self, series_id: str, version: int) -> VersionRecord: ...

    def artifact(self, series_id: str, version: int, created_at: str | None = None) -> bytes:
        """A version's paths; with `created_at`, only that version (NotFound if the series
        was made again and its number now names another)."""
        ...

    def year_points(self, series_id: str, year: int) -> list[YearPoint]:
        """Every version's points on `year`, oldest version first."""
        ...

    def moves(self, series_id: str, version: int) -> dict | None:
        """Why the version moved from the one before it; None if that was not stored (its
        first version; NotFound if there is no such version)."""
        ...

    def projection(self, series_id: str, version: int, year: int) -> dict | None:
        """What a version projected for `year`, if it did."""
        ...

    def active_versions(self) -> dict[str, int | None]: ...

    def served_stamps(self) -> dict[str, tuple[int, str] | None]:
        """Each series' served version with its creation time: what makes a version unique
        across a series deleted and created again (versions restart at 1)."""
        ...

    def served_stamp(self, series_id: str) -> tuple[int, str] | None:
        """The one series' served version and its creation time."""
        ...

    def series_names(self, limit: int, after: str | None = None) -> list[tuple[str, str]]:
        """(id, name) in id order, a page at a time, without reading observations."""
        ...

    def check(self) -> str | None:
        """Why the store cannot be used now (removed, replaced, read-only, corrupt), or None."""
        ...

    def close(self) -> None: ...
