"""What the latest flash says of the month to come, for a live forecast."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from exportcast.models import totals
from exportcast.models.nowcast.flashes import Flash, history_pairs, latest_for
from exportcast.models.nowcast.ratio import MonthBelief, NotEnoughHistory, fit_ratio
from exportcast.models.series import MonthlySeries

LEVELS = (80.0, 95.0)


@dataclass(frozen=True)
class FlashReading:
    """The flash a forecast uses for the month after the series' last, and what it implies
    for that month; `belief` is None (with the reason) when it cannot be used."""

    flash: Flash
    belief: MonthBelief | None
    history_months: int
    reason: str | None = None


def read_latest(
    series: MonthlySeries, flashes: Sequence[Flash], country: str | None
) -> FlashReading | None:
    """None when no flash is there for the month after the last published one: a flash
    whose full month has arrived is superseded by it (and only teaches the ratio)."""
    flash = latest_for(flashes, series.end + 1)
    if flash is None:
        return None
    full = {series.start + i: float(v) for i, v in enumerate(series.values)}
    pairs = history_pairs(flashes, full)
    n = sum(1 for f, _ in pairs if f.period == flash.period)
    try:
        ratio = fit_ratio(pairs, flash.period, country)
    except NotEnoughHistory as exc:
        return FlashReading(flash, None, n, str(exc))
    return FlashReading(flash, ratio.belief(flash), n)


def month_summary(values: np.ndarray) -> dict[str, Any]:
    """Median and intervals of a month's draws, as the response gives them."""
    bands = totals.intervals(np.asarray(values, dtype=float), LEVELS)
    return {
        "median": round(float(np.median(values)), 3),
        "intervals": {f"{k:g}": [round(lo, 3), round(hi, 3)] for k, (lo, hi) in bands.items()},
    }


def reading_record(
    reading: FlashReading,
    before: np.ndarray | None = None,
    after: np.ndarray | None = None,
) -> dict[str, Any]:
    """What a version records of its flash: which one, whether it was used, and the month
    as the model saw it before, as the flash alone says, and after conditioning."""
    out: dict[str, Any] = {
        **reading.flash.to_dict(),
        "used": reading.belief is not None,
        "reason": reading.reason,
        "history_months": reading.history_months,
        "implied": None,
        "month_before": month_summary(before) if before is not None else None,
        "month_after": month_summary(after) if after is not None else None,
    }
    belief = reading.belief
    if belief is not None:
        out["implied"] = {
            "median": round(belief.median, 3),
            "intervals": {
                f"{lv:g}": [round(bound, 3) for bound in belief.interval(lv)] for lv in LEVELS
            },
            "log_sd": round(belief.log_sd, 5),
        }
    return out
