"""Storage behind a small interface (`base.Store`); SQLite is the embedded default.
`connect.open_store` picks the dialect from a URL."""

from __future__ import annotations

from exportcast.service.store.base import (
    Conflict,
    DestinationOutcome,
    FlashOutcome,
    HierarchyRecord,
    IngestOutcome,
    Job,
    Lease,
    LeaseLost,
    NotFound,
    ReferenceOutcome,
    SeriesRecord,
    Store,
    StoredDestination,
    StoredFlash,
    StoredObservation,
    StoredReference,
    StoreUnavailable,
    VersionPoints,
    VersionRecord,
    YearPoint,
)

__all__ = [
    "Conflict",
    "DestinationOutcome",
    "FlashOutcome",
    "HierarchyRecord",
    "IngestOutcome",
    "Job",
    "Lease",
    "LeaseLost",
    "NotFound",
    "ReferenceOutcome",
    "SeriesRecord",
    "Store",
    "StoreUnavailable",
    "StoredDestination",
    "StoredFlash",
    "StoredObservation",
    "StoredReference",
    "VersionPoints",
    "VersionRecord",
    "YearPoint",
]
