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
from exportcast.service.store import Store, StoredObservation, VersionPoints, YearPoint


def year_total(observations: Sequence[StoredObservation], year: int) -> float | None:
    months = {o.month: o.value for o in observations if o.month // 12 == year}
    return sum(months.values()) if len(months) == 12 else None


def _error(value: float, actual: float | None) -> float | None:
    return None if actual is None else round(100 * (value - actual) / actual, 3)


def points(
    year_points: Sequence[YearPoint], year: int, track: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Every point on the year, oldest data first: each version's projection of it (live),
    and the backtest's at origins before the first version's data: from the track record
    made at every months-known (`track`) where there is one, else from the newest version
    with one at that month (those learned at their own months-known only)."""
    live: list[dict[str, Any]] = []
    backtest: dict[str, dict[str, Any]] = {}
    for p in year_points:  # oldest first: a newer version's backtest point replaces an older's
        if p.source == "backtest":
            backtest[p.body["data_through"]] = {**p.body, "source": "backtest"}
            continue
        live.append(
            {
                **p.body,
                "source": "live",
                "version": p.version,
                "created_at": p.created_at,
                "data_through": format_month(p.data_through),
            }
        )
    for t in track:  # made at every months-known: it replaces the versions' own
        if t["year"] == year:
            backtest[t["data_through"]] = {**t, "source": "backtest"}
    first_live = min((parse_month(p["data_through"]) for p in live), default=None)
    earlier = [
        p
        for month, p in sorted(backtest.items())
        if first_live is None or parse_month(month) < first_live
    ]
    return [*earlier, *live]


def known_on(published: date) -> int:
    """The latest month whose data can be out on `published`: the month before it."""
    return published.year * 12 + published.month - 2


def model_at(all_points: Sequence[dict[str, Any]], published: date) -> dict[str, Any] | None:
    """The point with the most data available on `published`: data through the month
    before it, and (for a version) made by then."""
    known = known_on(published)
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
        model_months_behind=(
            None if at is None else known_on(ref.published) - parse_month(at["data_through"])
        ),
        model_median=None if at is None else at["median"],
        percentile=None if at is None else round(percentile_of(at["percentiles"], ref.value), 1),
    )


def track_record(store: Store, series_id: str, year: int) -> TrackRecordOut:
    record = store.get_series(series_id)
    return assemble(
        series_id,
        record.unit,
        year,
        store.year_points(series_id, year),
        store.observations(series_id),
        [r.reference for r in store.references(series_id)],
        store.track(series_id),
    )


def assemble(
    series_id: str,
    unit: str,
    year: int,
    year_points: Sequence[YearPoint],
    observations: Sequence[StoredObservation],
    references: Sequence[Reference],
    track: Sequence[dict[str, Any]] = (),
) -> TrackRecordOut:
    """The record of `year` from version records, observations, outside forecasts and the
    backtest track record at every months-known (when made)."""
    actual = year_total(observations, year)
    all_points = points(year_points, year, track)
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


def version_year_points(
    version: int, created_at: str, data_through: int, points: VersionPoints, year: int
) -> list[YearPoint]:
    """One version's points on `year`, as the store gives them back."""
    return [
        *(YearPoint(version, created_at, data_through, "backtest", p)
          for p in points.backtest if p["year"] == year),
        *(YearPoint(version, created_at, data_through, "live", p)
          for p in points.projections if p["year"] == year),
    ]  # fmt: skip
