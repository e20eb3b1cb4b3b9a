"""Series bundled with the package, with their sources."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from exportcast.models.hierarchy.items import parse_items_csv
from exportcast.models.markets.destinations import DestinationRow, parse_destinations_csv
from exportcast.models.nowcast.flashes import Flash, parse_flash_csv
from exportcast.models.references import Reference, parse_reference_csv
from exportcast.models.releases import Release, parse_releases_csv
from exportcast.models.series import MonthlySeries
from exportcast.models.validate import parse_csv


@dataclass(frozen=True)
class BundledSeries:
    id: str
    name: str
    unit: str
    file: str
    targets: tuple[float, ...]
    source: str
    country: str | None = None  # whose working days and holidays its flashes are read with
    flash_file: str | None = None  # its partial-month flashes, when bundled
    references_file: str | None = None  # outside forecasts of its annual totals, when bundled
    items_file: str | None = None  # its exports by item (`month,item,value`), when bundled
    releases_file: str | None = None  # its figures as first published and revised, dated
    destinations_file: str | None = None  # its exports by partner (`month,destination,value`)


BUNDLED: dict[str, BundledSeries] = {
    "kr-exports": BundledSeries(
        id="kr-exports",
        name="South Korea goods exports (customs-clearance basis)",
        unit="USD millions",
        file="kr-exports.csv",
        targets=(700_000.0, 1_000_000.0),
        source="Korea Customs Service, via Bank of Korea ECOS table 901Y118 (item T002) "
        "through 2026-05, the customs service's own latest vintage after (data.go.kr dataset "
        "15157908; the two bases differ by about 0.3% on May 2026); releases: the Ministry "
        "of Trade's first releases and the customs service's revisions, each dated; "
        "flashes: Korea Customs Service 10-day provisional exports (cumulative from day 1); "
        "outlooks: KIET, KITA, Korea Eximbank, Bank of Korea and KDI, as reported (each row "
        "names its report); items: Korea Customs Service, exports by 10 major items; "
        "destinations: official customs/KOSIS figures by partner (2000-2023), KOSIS and KITA "
        "for 2024, the ministry's monthly figures by partner and region (2025-07 .. 2026-07), "
        "each row naming its source",
        country="KR",
        flash_file="kr-exports-flash.csv",
        references_file="kr-exports-outlooks.csv",
        items_file="kr-exports-items.csv",
        releases_file="kr-exports-releases.csv",
        destinations_file="kr-exports-destinations.csv",
    ),
    # Two long series from another country, so that what is learned across horizons is
    # checked (and pooled) beyond Korea.
    "us-exports-to-kr": BundledSeries(
        id="us-exports-to-kr",
        name="US goods exports to South Korea (F.A.S. basis, not seasonally adjusted)",
        unit="USD millions",
        file="us-exports-to-kr.csv",
        targets=(),
        source="US Census Bureau, via FRED series EXPKR",
        country="US",
    ),
    "us-exports-gs": BundledSeries(
        id="us-exports-gs",
        name="US exports of goods and services (balance-of-payments basis, seasonally adjusted)",
        unit="USD millions",
        file="us-exports-gs.csv",
        targets=(),
        source="US Census Bureau and BEA, via FRED series BOPTEXP",
        country="US",
    ),
}


def bundled_text(series_id: str) -> str:
    meta = BUNDLED[series_id]
    return resources.files(__name__).joinpath(meta.file).read_text(encoding="utf-8")


def load_bundled(series_id: str = "kr-exports") -> MonthlySeries:
    if series_id not in BUNDLED:
        known = ", ".join(sorted(BUNDLED))
        raise KeyError(f"no bundled series {series_id!r} (known: {known})")
    meta = BUNDLED[series_id]
    return parse_csv(bundled_text(series_id), meta.id, meta.unit, meta.name)


def _bundled_file(name: str | None) -> str | None:
    """The text of one of a bundled series' files (None when it has none)."""
    if name is None:
        return None
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def load_bundled_flashes(series_id: str = "kr-exports") -> list[Flash]:
    """The bundled series' flashes ([] for a series bundled without them)."""
    meta = BUNDLED[series_id]
    text = _bundled_file(meta.flash_file)
    return parse_flash_csv(text) if text is not None else []


def load_bundled_references(series_id: str = "kr-exports") -> list[Reference]:
    """The bundled series' outside forecasts ([] for a series bundled without them)."""
    meta = BUNDLED[series_id]
    text = _bundled_file(meta.references_file)
    return parse_reference_csv(text) if text is not None else []


def load_bundled_items(series_id: str = "kr-exports") -> dict[str, MonthlySeries]:
    """The bundled series' exports by item, by the file's item names ({} without them)."""
    meta = BUNDLED[series_id]
    text = _bundled_file(meta.items_file)
    return parse_items_csv(text, meta.unit) if text is not None else {}


def load_bundled_releases(series_id: str = "kr-exports") -> list[Release]:
    """The bundled series' dated releases, oldest first ([] for a series without them)."""
    text = _bundled_file(BUNDLED[series_id].releases_file)
    return parse_releases_csv(text) if text is not None else []


def load_bundled_destinations(series_id: str = "kr-exports") -> list[DestinationRow]:
    """The bundled series' exports by destination ([] for a series without them)."""
    text = _bundled_file(BUNDLED[series_id].destinations_file)
    return parse_destinations_csv(text) if text is not None else []
