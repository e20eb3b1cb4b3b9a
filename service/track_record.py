"""A year's track record: what every version (and, before the service ran, the backtest)
said of it as the months came in, the actual once complete, and the outside forecasts
beside the model's distribution at their dates. Read from version records, no model work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from exportcast.models.references import Reference, percentile_of
from exportcast.models.series import format_month, parse_month
from exportcast.service.schemas import ReferencePointOut, TrackPointOut, TrackRecordOut
from exportcast.service.store import Store, StoredObservation, VersionRecord


def year_total(observations: Sequence[StoredObservation], year: int) -> float | None:
    months = {o.month: o.value for o in observations if o.month // 12 == year}
    return sum(months.values()) if len(months) == 12 else None


def _error(value: float, actual: float | None) -> float | None:
    return None if actual is None else round(100 * (value - actual) / actual, 3)


def points(
    versions: Sequence[VersionRecord], year: int, track: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Every point on the year, oldest data first: each version's projection of it (live),
    and the backtest's at origins before the first version's data: from the track record
    made at every months-known (`track`) where there is one, else from the newest version
    with one at that month (those learned at their own months-known only)."""
    live: list[dict[str, Any]] = []
    backtest: dict[str, dict[str, Any]] = {}
    for v in versions:  # oldest first: a newer version's backtest point replaces an older's
        for p in v.info.get("track", []):
            if p["year"] == year:
                backtest[p["data_through"]] = {**p, "source": "backtest"}
        projection = next((p for p in v.info.get("projections", []) if p["year"] == year), None)
        if projection is None:
            continue
        live.append(
            {
                **projection,
                "source": "live",
                "version": v.version,
                "created_at": v.created_at,
                "data_through": format_month(v.data_through),
            }
        )
    for p in track:  # made at every months-known: it replaces the versions' own
        if p["year"] == year:
            backtest[p["data_through"]] = {**p, "source": "backtest"}
    first_live = min((parse_month(p["data_through"]) for p in live), default=None)
    earlier = [
        p
        for month, p in sorted(backtest.items())
        if first_live is None or parse_month(month) < first_live
    ]
    return [*earlier, *live]


def model_at(all_points: Sequence[dict[str, Any]], published: date) -> dict[str, Any] | None:
    """The point with the most data available on `published`: data through the month
    before it, and (for a version) made by then."""
    known = published.year * 12 + published.month - 2
    usable = [
        p
        for p in all_points
        if parse_month(p["data_through"]) <= known
        and (p.get("created_at") is None or p["created_at"][:10] <= published.isoformat())
    ]
    return max(usable, key=lambda p: parse_month(p["data_through"]), default=None)


def reference_point(
    ref: Reference, all_points: Sequence[dict[str, Any]], actual: float | None
) -> ReferencePointOut:
    at = model_at(all_points, ref.published)
    return ReferencePointOut(
        forecaster=ref.forecaster,
        published=ref.published.isoformat(),
        value=ref.value,
        source=ref.source,
        error_pct=_error(ref.value, actual),
        model_data_through=None if at is None else at["data_through"],
        model_median=None if at is None else at["median"],
        percentile=None if at is None else round(percentile_of(at["percentiles"], ref.value), 1),
    )


def track_record(store: Store, series_id: str, year: int) -> TrackRecordOut:
    record = store.get_series(series_id)
    return assemble(
        series_id,
        record.unit,
        year,
        store.versions(series_id),
        store.observations(series_id),
        [r.reference for r in store.references(series_id)],
        store.track(series_id),
    )


def assemble(
    series_id: str,
    unit: str,
    year: int,
    versions: Sequence[VersionRecord],
    observations: Sequence[StoredObservation],
    references: Sequence[Reference],
    track: Sequence[dict[str, Any]] = (),
) -> TrackRecordOut:
    """The record of `year` from version records, observations, outside forecasts and the
    backtest track record at every months-known (when made)."""
    actual = year_total(observations, year)
    all_points = points(versions, year, track)
    return TrackRecordOut(
        series=series_id,
        unit=unit,
        year=year,
        actual=actual,
        points=[
            TrackPointOut(
                source=p["source"],
                data_through=p["data_through"],
                version=p.get("version"),
                created_at=p.get("created_at"),
                months_observed=p["months_observed"],
                median=p["median"],
                intervals={k: tuple(v) for k, v in p["intervals"].items()},
                prob_at_least=p.get("prob_at_least", {}),
                error_pct=_error(p["median"], actual),
            )
            for p in all_points
        ],
        references=[reference_point(r, all_points, actual) for r in references if r.year == year],
    )
