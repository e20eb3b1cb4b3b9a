"""Destination rows (`period,destination,value`) and the compositions read from them.

A period is a year (`YYYY`) or a month (`YYYY-MM`); a destination is a partner's ISO 3166
alpha-3 code, `WORLD`, or one of the ministry's own `REGION_*` aggregates (kept as sent and
never added to partners). The data are uneven, and each part is used for what it is:

- a year with `WORLD` and partners making at least 90% of it is a complete composition;
- a year with fewer partners (2024: China and the US) gives the shares of the regions its
  partners make up entirely, and nothing is invented for the rest;
- the latest twelve consecutive months with `WORLD` and partners in every region are the
  newest composition, each region's listed partners scaled up by their weight in the
  region in the last complete year (the monthly rows list the largest partners only);
- months of a partner without `WORLD` (China's, 2001-2019) add nothing the years lack.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from exportcast.models.markets.regions import REGIONS, REST, region_of
from exportcast.models.series import format_month, parse_month
from exportcast.models.validate import (
    MAX_VALUE,
    Problem,
    SeriesError,
    plain_number,
    read_csv_columns,
)

WORLD = "WORLD"
COMPLETE = 0.9  # partners' share of the world total that makes a year's composition complete
KNOWN = 0.99  # a region's share is known where its listed partners made this much of it
SCALED = 0.5  # ... and estimated (scaled up) from monthly rows where they made this much
_CODE = re.compile(r"[A-Z]{3}|WORLD|REGION_[A-Z0-9_]{1,40}")
_YEAR = re.compile(r"[0-9]{4}")
FIRST_YEAR, LAST_YEAR = 1900, 2199


@dataclass(frozen=True)
class Period:
    """A year or a month: `month` is None for a year."""

    year: int
    month: int | None = None  # a month index (`series.parse_month`)

    @classmethod
    def parse(cls, text: str) -> Period:
        text = text.strip()
        if _YEAR.fullmatch(text):
            year = int(text)
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise ValueError(f"year {text} is not between {FIRST_YEAR} and {LAST_YEAR}")
            return cls(year)
        month = parse_month(text)
        if not FIRST_YEAR <= month // 12 <= LAST_YEAR:
            raise ValueError(f"month {text[:7]} is not between {FIRST_YEAR} and {LAST_YEAR}")
        return cls(month // 12, month)

    def __str__(self) -> str:
        return str(self.year) if self.month is None else format_month(self.month)


@dataclass(frozen=True)
class DestinationRow:
    period: Period
    destination: str
    value: float


def check_destination(text: str) -> str:
    code = text.strip()
    if not _CODE.fullmatch(code):
        raise ValueError(
            f"destination {code[:40]!r} is not an ISO 3166 alpha-3 code (three capital "
            "letters), WORLD or REGION_<NAME>"
        )
    return code


def check_destination_rows(
    rows: Iterable[tuple[int | str, object, object, object]],
) -> list[DestinationRow]:
    """(location, period, destination, value) rows checked, every bad one named; a period
    and destination twice in one batch is refused (which value would be meant?)."""
    out: list[DestinationRow] = []
    problems: list[Problem] = []
    seen: dict[tuple[Period, str], int | str] = {}
    for at, period_text, code_text, value_text in rows:
        line, where = (at, None) if isinstance(at, int) else (None, at)
        try:
            period = Period.parse(str(period_text))
            code = check_destination(str(code_text))
            value = plain_number(str(value_text)) if isinstance(value_text, str) else value_text
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"value {value_text!r} is not a number")
            value = float(value)
            if not 0 <= value <= MAX_VALUE:
                raise ValueError(f"value {value:g} is not between 0 and {MAX_VALUE:g}")
        except ValueError as exc:
            problems.append(Problem(str(exc), line, where=where))
            continue
        key = (period, code)
        if key in seen:
            problems.append(Problem(f"{period} {code} is given twice", line, where=where))
            continue
        seen[key] = at
        out.append(DestinationRow(period, code, value))
    if problems:
        raise SeriesError(problems)
    if not out:
        raise SeriesError([Problem("no destination rows")])
    return out


def parse_destinations_csv(text: str) -> list[DestinationRow]:
    """`month,destination,value` (or `exports_usd_millions`) rows of a CSV; other columns,
    such as `source`, are ignored."""
    rows = read_csv_columns(
        text,
        [("month", "period", "year"), ("destination",), ("value", "exports_usd_millions")],
    )
    return check_destination_rows(rows)


@dataclass(frozen=True)
class Composition:
    """The regions' shares of the world total in one period; None where not known."""

    label: str
    at: float  # when: the year for a calendar year, fractional for other twelve months
    basis: str  # "year", "partial year" or "twelve months"
    total: float
    shares: dict[str, float | None]
    partner_herfindahl: float | None = None  # over every partner (complete years only)
    partners: int = 0
    coverage: float = 0.0  # the listed partners' share of the world total
    scaled: dict[str, float] = field(default_factory=dict)  # region -> its listed partners' weight

    @property
    def complete(self) -> bool:
        return all(v is not None for v in self.shares.values())

    def to_dict(self) -> dict[str, object]:
        return {
            "period": self.label,
            "basis": self.basis,
            "total": round(self.total, 3),
            "partners": self.partners,
            "coverage": round(self.coverage, 4),
            "shares": {k: None if v is None else round(v, 5) for k, v in self.shares.items()},
            "partner_herfindahl": (
                None if self.partner_herfindahl is None else round(self.partner_herfindahl, 5)
            ),
        }


def _by_region(values: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for code, value in values.items():
        out[region_of(code)] += value
    return out


def _with_rest(known: dict[str, float | None]) -> dict[str, float | None]:
    if any(known[r.id] is None for r in REGIONS):
        return {**known, REST: None}
    return {**known, REST: 1.0 - sum(v for v in known.values() if v is not None)}


def _year(
    year: int, values: Mapping[str, float], last_complete: Mapping[str, float] | None
) -> Composition | None:
    world = values.get(WORLD)
    partners = {c: v for c, v in values.items() if c != WORLD and not c.startswith("REGION_")}
    if not world or not partners:
        return None
    coverage = sum(partners.values()) / world
    regions = _by_region(partners)
    if coverage >= COMPLETE:
        shares = _with_rest({r.id: regions.get(r.id, 0.0) / world for r in REGIONS})
        hhi = sum((v / world) ** 2 for v in partners.values())
        return Composition(
            str(year), float(year), "year", world, shares, hhi, len(partners), coverage
        )
    if last_complete is None:
        return None
    known: dict[str, float | None] = {}
    for r in REGIONS:  # known only where the listed partners were the whole region
        weight = _weight(r.codes, partners, last_complete)
        known[r.id] = regions.get(r.id, 0.0) / world if weight >= KNOWN else None
    known[REST] = None
    if all(v is None for v in known.values()):
        return None
    return Composition(
        str(year), float(year), "partial year", world, known, None, len(partners), coverage
    )


def _weight(codes: Iterable[str], listed: Iterable[str], last: Mapping[str, float]) -> float:
    """The listed partners' part of a region's exports in the last complete year."""
    codes = set(codes)
    whole = sum(v for c, v in last.items() if c in codes)
    if whole <= 0:
        return 0.0
    return sum(last.get(c, 0.0) for c in set(listed) & codes) / whole


def _twelve_months(
    months: Mapping[int, Mapping[str, float]], last_complete: Mapping[str, float]
) -> Composition | None:
    """The latest twelve consecutive months with the world total whose partners make every
    region known, as one composition (a newer window listing fewer partners is passed over
    for the one before it)."""
    with_world = sorted((m for m, v in months.items() if v.get(WORLD)), reverse=True)
    for end in with_world:
        made = _window(months, range(end - 11, end + 1), last_complete)
        if made is not None:
            return made
    return None


def _window(
    months: Mapping[int, Mapping[str, float]],
    window: range,
    last_complete: Mapping[str, float],
    whole_year: bool = True,
) -> Composition | None:
    if any(m not in months or not months[m].get(WORLD) for m in window):
        return None
    world = sum(months[m][WORLD] for m in window)
    listed = set.intersection(
        *({c for c in months[m] if c != WORLD and not c.startswith("REGION_")} for m in window)
    )
    summed = {c: sum(months[m][c] for m in window) for c in listed}
    regions = _by_region(summed)
    known: dict[str, float | None] = {}
    scaled: dict[str, float] = {}
    for r in REGIONS:
        weight = _weight(r.codes, listed, last_complete)
        if weight < SCALED:
            return None
        known[r.id] = regions.get(r.id, 0.0) / weight / world
        scaled[r.id] = weight
    shares = _with_rest(known)
    if shares[REST] is None or shares[REST] <= 0:
        return None
    if not whole_year:
        return Composition("", 0.0, "months", world, shares)
    first, end = window[0], window[-1]
    at = first / 12.0  # centred like a calendar year: a year starting in month `first`
    label = f"{format_month(first)}..{format_month(end)}"
    coverage = sum(summed.values()) / world
    return Composition(
        label, at, "twelve months", world, shares, None, len(listed), coverage, scaled
    )


@dataclass(frozen=True)
class KnownMonths:
    """The first `months` months of `year` by region, published: facts, not forecasts."""

    year: int
    months: int
    world: float
    regions: dict[str, float]  # each named region's exports (scaled as a window is)

    def to_dict(self) -> dict[str, object]:
        return {
            "year": self.year,
            "months": self.months,
            "world": round(self.world, 3),
            "shares": {k: round(v / self.world, 5) for k, v in self.regions.items()},
        }


def known_months(rows: Sequence[DestinationRow], year: int, most: int = 12) -> KnownMonths | None:
    """The year's months from January on (at most `most`) whose world total and regions'
    partners are published, as one sum per region; None if January is not."""
    years, months = _split(rows)
    last_complete = _last_complete(years, year)
    if last_complete is None:
        return None
    for n in range(min(most, 12), 0, -1):
        window = range(year * 12, year * 12 + n)
        made = _window(months, window, last_complete, whole_year=False)
        if made is not None:
            regions = {r.id: (made.shares[r.id] or 0.0) * made.total for r in REGIONS}
            return KnownMonths(year, n, made.total, regions)
    return None


def _split(
    rows: Sequence[DestinationRow],
) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, float]]]:
    years: dict[int, dict[str, float]] = defaultdict(dict)
    months: dict[int, dict[str, float]] = defaultdict(dict)
    for row in rows:
        if row.period.month is None:
            years[row.period.year][row.destination] = row.value
        else:
            months[row.period.month][row.destination] = row.value
    return years, months


def _last_complete(
    years: Mapping[int, Mapping[str, float]], before: int
) -> dict[str, float] | None:
    """The partners of the last complete year before `before`."""
    for year in sorted((y for y in years if y < before), reverse=True):
        made = _year(year, years[year], None)
        if made is not None and made.basis == "year":
            return {c: v for c, v in years[year].items() if c != WORLD}
    return None


def compositions(rows: Sequence[DestinationRow]) -> list[Composition]:
    """Every composition the rows give, oldest first: complete and partial years, then the
    latest twelve months when they end after the last complete year."""
    years, months = _split(rows)
    out: list[Composition] = []
    last_complete: dict[str, float] | None = None
    for year in sorted(years):
        made = _year(year, years[year], last_complete)
        if made is None:
            continue
        out.append(made)
        if made.basis == "year":
            last_complete = {c: v for c, v in years[year].items() if c != WORLD}
    if last_complete is not None and months:
        recent = _twelve_months(months, last_complete)
        last_year = max((c.at for c in out if c.complete), default=float("-inf"))
        if recent is not None and recent.at > last_year:
            out.append(recent)
    return out


def ministry_regions(rows: Sequence[DestinationRow]) -> dict[str, dict[str, float]]:
    """The `REGION_*` rows by period, as sent: a check on the regions, never added in."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        if row.destination.startswith("REGION_"):
            out[str(row.period)][row.destination] = row.value
    return dict(out)
