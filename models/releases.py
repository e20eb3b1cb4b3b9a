"""Dated releases of a series: each figure as it was published on a day, first releases and
revisions alike, so the data a forecast saw on any date can be rebuilt.

A file of `month,period,as_of,value,source` rows (`period` is `full` for a whole month, or
a flash period such as `d1_20`). Grouped by `as_of`, the releases replay the months and
flashes in the order the world learnt them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby

from exportcast.models.nowcast.flashes import PERIODS, Flash
from exportcast.models.series import Observation, parse_month

FULL = "full"


@dataclass(frozen=True)
class Release:
    """What was published on one day: full months and flashes."""

    as_of: date
    observations: tuple[Observation, ...] = ()
    flashes: tuple[Flash, ...] = field(default=())


def parse_releases_csv(text: str) -> list[Release]:
    """The releases in a file, in date order; ValueError naming the line of a bad row."""
    rows = []
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            month = parse_month(row["month"])
            period = row["period"].strip()
            as_of = date.fromisoformat(row["as_of"].strip())
            value = float(row["exports_usd_millions"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"line {line}: {exc}") from None
        if period != FULL and period not in PERIODS:
            raise ValueError(f"line {line}: period {period!r} is neither full nor a flash")
        if not value > 0:
            raise ValueError(f"line {line}: value {value!r} is not positive")
        rows.append((as_of, month, period, value))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    out = []
    for as_of, group in groupby(rows, key=lambda r: r[0]):
        group = list(group)
        out.append(
            Release(
                as_of,
                tuple(Observation(m, v) for _, m, p, v in group if p == FULL),
                tuple(Flash(m, p, v) for _, m, p, v in group if p != FULL),
            )
        )
    return out


def first_month(releases: Sequence[Release]) -> int | None:
    """The earliest full month the releases publish (the months before it are the base)."""
    months = [o.month for r in releases for o in r.observations]
    return min(months) if months else None
