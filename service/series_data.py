"""A stored series as the models read it: one function, so a retrain and a hierarchy's
nodes always see the same months, values, unit and name."""

from __future__ import annotations

import numpy as np

from exportcast.models.series import MonthlySeries
from exportcast.service.store import SeriesRecord, Store


class NoObservations(ValueError):
    """The series exists but has no data yet: nothing to fit until some arrives."""


def series_from_store(
    store: Store, series_id: str, record: SeriesRecord | None = None
) -> MonthlySeries:
    """The series' observations as stored now (blocking: call it in a thread); NotFound
    for an unknown series, NoObservations for one with no data. A caller that has read
    the series' record passes it, so it is not read twice."""
    record = record or store.get_series(series_id)
    stored = store.observations(series_id)
    if not stored:
        raise NoObservations(f"series {series_id!r} has no observations")
    values = np.array([o.value for o in stored], dtype=np.float64)
    return MonthlySeries(series_id, record.unit, stored[0].month, values, record.name)
