"""Working days: what makes the first 10 or 20 days of a month a larger or smaller share of
it (weekends, and holidays such as Lunar New Year and Chuseok, which move between months)."""

from __future__ import annotations

import calendar
import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """The codes with a holiday calendar here (the package builds the list on each call)."""
    return frozenset(holidays.list_supported_countries())


def supported(country: str) -> bool:
    return country in countries()


@lru_cache(maxsize=64)
def _holidays(country: str | None, year: int) -> frozenset[dt.date]:
    if country is None:
        return frozenset()
    return frozenset(holidays.country_holidays(country, years=year))


def days_in(month: int) -> int:
    """Days of a month index (year * 12 + month - 1)."""
    return calendar.monthrange(month // 12, month % 12 + 1)[1]


def working_days(month: int, first_day: int, last_day: int, country: str | None) -> int:
    """Weekdays from `first_day` to `last_day` of the month that are not public holidays of
    `country` (weekdays only without a country)."""
    year, number = month // 12, month % 12 + 1
    off = _holidays(country, year)
    count = 0
    for day in range(first_day, min(last_day, days_in(month)) + 1):
        date = dt.date(year, number, day)
        if date.weekday() < 5 and date not in off:
            count += 1
    return count
