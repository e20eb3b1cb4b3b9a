"""The regions markets are told in, defined once: each a set of ISO 3166 alpha-3 codes,
and "rest" everything else (including what the source could not allocate).

Membership is today's for every year (the EU is the 27 members since 2020 throughout, the
United Kingdom in "rest"), so a share moves because trade moved, not because a border did.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    codes: frozenset[str]

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "codes": sorted(self.codes)}


REST = "rest"

_ASEAN = "BRN IDN KHM LAO MMR MYS PHL SGP THA VNM"
_EU27 = (
    "AUT BEL BGR CYP CZE DEU DNK ESP EST FIN FRA GRC HRV HUN IRL ITA LTU LUX LVA MLT NLD POL "
    "PRT ROU SVK SVN SWE"
)
# Turkey with them, as the ministry counts it (the markets benchmark checks our regions
# against its own monthly figures: without Turkey ours came to 0.51-0.58 of its Middle East).
_MIDDLE_EAST = "ARE BHR IRN IRQ ISR JOR KWT LBN OMN PSE QAT SAU SYR TUR YEM"
# Mexico, Central and South America and the Caribbean (open-registry flags such as Panama's
# included: ships registered there are exports to it in the customs figures).
_LATIN_AMERICA = (
    "ABW AIA ANT ARG ATG BES BHS BLM BLZ BOL BRA BRB CHL COL CRI CUB CUW CYM DMA DOM ECU FLK "
    "GLP GRD GTM GUF GUY HND HTI JAM KNA LCA MAF MEX MSR MTQ NIC PAN PER PRY SLV SUR SXM TCA "
    "TTO URY VCT VEN VGB"
)


def _region(id: str, name: str, codes: str) -> Region:
    return Region(id, name, frozenset(codes.split()))


REGIONS: tuple[Region, ...] = (
    _region("china", "China", "CHN"),
    _region("united_states", "United States", "USA"),
    _region("asean", "ASEAN", _ASEAN),
    _region("eu", "European Union (27)", _EU27),
    _region("japan", "Japan", "JPN"),
    _region("hong_kong", "Hong Kong", "HKG"),
    _region("taiwan", "Taiwan", "TWN"),
    _region("india", "India", "IND"),
    _region("middle_east", "Middle East", _MIDDLE_EAST),
    _region("latin_america", "Latin America and the Caribbean", _LATIN_AMERICA),
)
REGION_IDS: tuple[str, ...] = (*(r.id for r in REGIONS), REST)
NAMES: dict[str, str] = {**{r.id: r.name for r in REGIONS}, REST: "Rest of the world"}
_BY_CODE = {code: r.id for r in REGIONS for code in r.codes}


def region_of(code: str) -> str:
    """The region a partner's code belongs to ("rest" for any other code)."""
    return _BY_CODE.get(code, REST)


def regions_dict() -> list[dict[str, object]]:
    """The regions as served: each with its codes; "rest" is every other code."""
    return [*(r.to_dict() for r in REGIONS), {"id": REST, "name": NAMES[REST], "codes": []}]
