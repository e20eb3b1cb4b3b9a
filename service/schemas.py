"""What the API speaks, apart from how it is stored: the one definition of every body.

Response bodies forbid fields they do not declare, and every forecast body the service
sends is validated into these models and serialised from them (once per version for the
polled defaults), so the OpenAPI document lists exactly what clients receive. The forecast
examples are real outputs of the engine on the bundled series (`service/examples.json`,
checked against a fresh run by the tests).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from exportcast.models.limits import MAX_TARGETS, check_targets
from exportcast.models.nowcast.calendar import countries as supported_countries
from exportcast.models.nowcast.calendar import supported as supported_country
from exportcast.models.nowcast.flashes import PERIODS
from exportcast.models.validate import MAX_VALUE, plain_number

MAX_ROWS = 10_000  # rows of one batch (observations or flashes)

SERIES_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
PRINTABLE = r"^[^\u0000-\u001f\u007f]*$"  # no control characters (the store refuses NUL)
COUNTRIES = sorted(c for c in supported_countries() if len(c) == 2)


def _examples() -> dict[str, Any]:
    text = resources.files("exportcast.service").joinpath("examples.json").read_text("utf-8")
    return json.loads(text)


EXAMPLES = _examples()


class Out(BaseModel):
    """A response body: nothing undeclared goes out."""

    model_config = ConfigDict(extra="forbid")


class SeriesCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "kr-exports",
                    "name": "South Korea goods exports",
                    "unit": "USD millions",
                    "targets": [700000, 1000000],
                }
            ]
        },
    )

    id: str = Field(pattern=SERIES_ID, description="lower-case letters, digits, - _ .")
    name: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": PRINTABLE})
    unit: str = Field(min_length=1, max_length=50, json_schema_extra={"pattern": PRINTABLE})
    targets: list[float] = Field(
        default_factory=list,
        max_length=MAX_TARGETS,
        description="default targets for the forecast: finite amounts > 0 (as in queries)",
        json_schema_extra={"items": {"type": "number", "exclusiveMinimum": 0}},
    )

    country: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 alpha-2 code (KR): flashes are read on its working days and "
        "holidays; without one, on weekdays",
        json_schema_extra={"enum": [*COUNTRIES, None]},
    )

    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str | None) -> str | None:
        if country is not None and not supported_country(country):
            raise ValueError(f"country {country!r} has no holiday calendar here")
        return country

    @field_validator("name", "unit")
    @classmethod
    def _storable_text(cls, text: str) -> str:
        # Lone surrogates ("\ud800", which UTF-8 and so the store cannot hold) are refused by
        # pydantic's str already; control characters (NUL) would be by PostgreSQL text.
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            raise ValueError("must not contain control characters")
        return text

    @field_validator("targets", mode="before")
    @classmethod
    def _plain_targets(cls, targets: Any) -> Any:
        # A target sent as text follows the observations' rule: plain ASCII decimal digits,
        # not "9_3_000" or other scripts' digits (which float() would take); and true is
        # not a number (pydantic would take it as 1.0).
        if not isinstance(targets, list):
            return targets
        if any(isinstance(t, bool) for t in targets):
            raise ValueError("targets: true and false are not numbers")
        return [plain_number(t) if isinstance(t, str) else t for t in targets]

    @field_validator("targets")
    @classmethod
    def _targets_as_queried(cls, targets: list[float]) -> list[float]:
        # The rule the forecast query applies, so a series cannot be created with default
        # targets that every forecast would refuse or serve as NaN: finite and > 0.
        return list(check_targets(targets))


class SeriesOut(Out):
    id: str
    name: str
    unit: str
    targets: list[float]
    country: str | None = Field(
        description="ISO 3166 code whose working days and holidays flashes are read with"
    )
    first_month: str | None
    last_month: str | None
    n_observations: int
    active_model_version: int | None


class SeriesList(Out):
    series: list[SeriesOut]
    next: str | None = Field(
        None, description="the next page's URL; null on the last page", examples=[None]
    )


# A calendar month from 1800 on, ASCII digits (the rule `parse_month` applies).
MONTH = r"^(1[89][0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"


class ObservationIn(BaseModel):
    month: str = Field(pattern=MONTH, examples=["2026-06"], description="YYYY-MM, ASCII digits")
    value: float = Field(
        gt=0,
        le=MAX_VALUE,
        examples=[91234.5],
        description="in the series' unit; above 1e18 is refused as implausible",
    )


class ObservationBatch(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "observations": [
                        {"month": "2026-05", "value": 81410.2},
                        {"month": "2026-06", "value": 91234.5},
                    ]
                }
            ]
        }
    )
    observations: list[ObservationIn] = Field(min_length=1, max_length=MAX_ROWS)


class ObservationOut(Out):
    month: str
    value: float
    recorded_at: str


class ObservationList(Out):
    series: str
    as_of: str | None
    observations: list[ObservationOut]


class FlashIn(BaseModel):
    month: str = Field(pattern=MONTH, examples=["2026-06"], description="YYYY-MM, ASCII digits")
    period: str = Field(
        json_schema_extra={"enum": list(PERIODS)},
        description="d1_10 or d1_20: the month's total from the 1st to the 10th or 20th",
    )
    value: float = Field(gt=0, le=MAX_VALUE, examples=[62000.0], description="series' unit")


class FlashBatch(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"flashes": [{"month": "2026-06", "period": "d1_20", "value": 62000.0}]}]
        }
    )
    flashes: list[FlashIn] = Field(min_length=1, max_length=MAX_ROWS)


class FlashKey(Out):
    month: str
    period: str


class FlashOut(Out):
    month: str
    period: str
    value: float
    recorded_at: str


class FlashList(Out):
    series: str
    as_of: str | None
    flashes: list[FlashOut]


DATE = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class ReferenceIn(BaseModel):
    forecaster: str = Field(
        min_length=1,
        max_length=200,
        examples=["KITA"],
        json_schema_extra={"pattern": PRINTABLE},
        description="who published the forecast",
    )
    published: str = Field(pattern=DATE, examples=["2025-12-05"], description="YYYY-MM-DD")
    year: int = Field(ge=1900, le=2200, examples=[2026], description="the year forecast")
    value: float = Field(gt=0, le=MAX_VALUE, examples=[711000.0], description="series' unit")
    source: str = Field(
        "",
        max_length=200,
        json_schema_extra={"pattern": PRINTABLE},
        description="where it was published",
    )


class ReferenceBatch(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "references": [
                        {
                            "forecaster": "KITA",
                            "published": "2025-12-05",
                            "year": 2026,
                            "value": 711000.0,
                            "source": "Korea JoongAng Daily 2025-12-05",
                        }
                    ]
                }
            ]
        }
    )
    references: list[ReferenceIn] = Field(min_length=1, max_length=MAX_ROWS)


class ReferenceKey(Out):
    forecaster: str
    published: str
    year: int


class ReferenceOut(ReferenceKey):
    value: float
    source: str
    recorded_at: str


class ReferenceList(Out):
    series: str
    as_of: str | None
    references: list[ReferenceOut]


class ReferencesAccepted(Out):
    accepted: int
    new: list[ReferenceKey]
    revised: list[ReferenceKey]
    unchanged: list[ReferenceKey]


class TrackPointOut(Out):
    """What the model said of the year with data through a month."""

    source: str = Field(
        description="live: a version the service made; backtest: refitted "
        "on the data through that month only, before the service ran"
    )
    data_through: str
    version: int | None = Field(description="the model version (live points)")
    created_at: str | None = Field(description="when that version was made (live points)")
    months_observed: int = Field(description="months of the year published then")
    median: float
    intervals: dict[str, Interval] = Field(description="level -> [low, high] (backtest: 80 only)")
    prob_at_least: dict[str, float] = Field(description="target -> probability (live points)")
    error_pct: float | None = Field(description="(median - actual) / actual, once complete")


class ReferencePointOut(Out):
    """An outside forecast of the year, beside the model's distribution at its date."""

    forecaster: str
    published: str
    value: float
    source: str
    error_pct: float | None = Field(description="(value - actual) / actual, once complete")
    model_data_through: str | None = Field(
        description="the data the model had at the publication date (the latest point then)"
    )
    model_months_behind: int | None = Field(
        None,
        description="months between the model's data and the latest month published by the "
        "publication date (0: the model had all the data then; more: the nearest point is "
        "older, and is said so rather than shown as the model of that date)",
    )
    model_median: float | None
    percentile: float | None = Field(
        description="where the figure fell in the model's distribution then (0.5: below its "
        "1st percentile, 99.5: above its 99th)"
    )


class TrackRecordOut(Out):
    series: str
    unit: str
    year: int
    actual: float | None = Field(description="the year's total once all twelve months are in")
    points: list[TrackPointOut] = Field(description="oldest data first")
    references: list[ReferencePointOut]


class JobRef(Out):
    id: int
    status_url: str


class IngestAccepted(Out):
    accepted: int
    new_months: list[str]
    revised_months: list[str]
    unchanged_months: list[str]
    job: JobRef | None


class FlashesAccepted(Out):
    accepted: int
    new: list[FlashKey]
    revised: list[FlashKey]
    unchanged: list[FlashKey]
    job: JobRef | None


class JobOut(Out):
    id: int
    series: str
    status: str = Field(description="queued, running, succeeded or failed")
    model_version: int | None
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class VersionOut(Out):
    version: int
    created_at: str
    data_through: str
    model: str
    members: list[str]
    description: str
    fit_seconds: float
    status: str = Field(description="active or standby")
    active: bool
    learned: dict = Field(
        description="what the model learned: weights, calibration, the backtest it learned "
        "from (its points on each year are in the track record)"
    )
    n_paths: int = Field(description="sample paths the version drew")
    moves: str | None = Field(
        None, description="why it moved from the version served before it (a path); null if none"
    )


class VersionList(Out):
    series: str
    versions: list[VersionOut] = Field(description="newest first")
    next_before: int | None = Field(
        None, description="more versions: pass this as `before` for the next page"
    )


class YearMoveOut(Out):
    median: float = Field(description="the year's median total (or a step's change of it)")
    prob_at_least: dict[str, float] = Field(
        description="target -> P(total >= target) (or a step's change of it)"
    )


class MoveStepOut(Out):
    kind: str = Field(
        description="revisions, month (one published since), weights, calibration, growth, "
        "spread (each re-learned), flash, or residual (what the steps leave over)"
    )
    label: str
    detail: dict[str, Any] = Field(
        description="what changed: a month's published value against what the previous "
        "version expected of it, a revised month's old and new values, a learned value's "
        "old and new, the flash"
    )
    years: dict[str, YearMoveOut] = Field(description="year -> what this step did to it")


class MovesOut(Out):
    """Why a version moved: each year's median and P(target) before and after, and the steps
    that add up to the change (the residual included)."""

    series: str
    version: int
    from_version: int = Field(description="the version served before it")
    years: list[int]
    targets: list[float]
    before: dict[str, YearMoveOut]
    after: dict[str, YearMoveOut]
    steps: list[MoveStepOut] = Field(description="in the order applied")


class Problem(Out):
    message: str
    line: int | None = None
    where: str | None = None
    month: str | None = None


class Error(Out):
    """Every 4xx and 5xx body: what is wrong, and for a refused batch or request every
    problem found, each with where it is (a CSV line, `observations[2]`, `query.years`)."""

    detail: str
    errors: list[Problem] | None = None


class Health(Out):
    status: str


class Readiness(Out):
    status: str = Field(description="ready or not ready")
    series: dict[str, int | None] | None = Field(None, description="series -> active version")
    reasons: list[str] | None = Field(None, description="why not ready")
    pending: list[str] | None = Field(
        None, description="series still waiting for their first model (they do not block)"
    )


Interval = tuple[float, float]


class ExpectedErrorOut(Out):
    """How far `auto` was off in its backtest with as many months of the year known, on the
    current year's total (horizon 1) or on a later year's (horizon h: h - 1 years after)."""

    m: int = Field(description="months of the current year published")
    horizon: int = Field(1, description="1: the current year; h: the year h - 1 after it")
    n: int = Field(description="backtest cases behind the figures (one per year)")
    years: tuple[int, int] | None = Field(None, description="first and last year scored")
    mape_pct: float | None = None
    bias_pct: float | None = None
    coverage: dict[str, float | None] | None = Field(
        None, description="level -> share of backtest years whose total fell inside"
    )


class PaceOut(Out):
    """What a target needs of the months not yet published, and how often the series has
    grown that fast; read beside `prob_at_least`, which says how likely the paths find it."""

    months_left: int = Field(description="from the last published month to the year's end")
    needed: float = Field(description="what the year's unpublished months must add up to")
    per_month: float = Field(description="their average per month")
    growth_same_months: float | None = Field(
        description="that, as growth on the same months a year earlier (null where those "
        "are not all published)"
    )
    growth_per_year: float = Field(
        description="the yearly growth of the twelve-month total that reaches the target"
    )
    history_share: float | None = Field(
        description="share of past windows of `months_left` months in which the twelve-month "
        "total grew at least that much"
    )
    history_windows: int = Field(description="how many such windows the history has")


class YearOut(Out):
    year: int
    months_observed: int = Field(description="months of the year already published (facts)")
    actual_to_date: float = Field(description="sum of the published months")
    median: float
    mean: float
    intervals: dict[str, Interval] = Field(description="level in percent -> [low, high]")
    prob_at_least: dict[str, float] = Field(description="target amount -> probability")
    expected_error: ExpectedErrorOut | None = Field(
        None,
        description="`auto`'s backtest error and coverage on this year's horizon with as many "
        "months known; null for a single model or beyond the horizons backtested",
    )
    pace: dict[str, PaceOut] | None = Field(
        None, description="target amount -> the pace it needs (null without targets)"
    )


class HorizonStepOut(Out):
    growth: float = Field(description="share of the members' projected growth kept (0-1)")
    spread: float = Field(description="conformal widening (> 1) or narrowing of the year")
    tail: float = Field(
        description="the factor the 95% interval needed; the tails beyond the 80% bounds "
        "are widened further where it exceeds `spread` (never narrowed further)"
    )


class TargetOut(Out):
    amount: float
    first_year_p50: int | None = Field(description="first year with P(total >= amount) >= 0.5")
    crossing_year: dict[str, float] = Field(
        description='first year a path reaches the amount ("later": not within the years)'
    )


class MonthOut(Out):
    month: str
    median: float
    mean: float
    intervals: dict[str, Interval]


class MonthSummaryOut(Out):
    median: float
    intervals: dict[str, Interval] = Field(description="level in percent -> [low, high]")


class ImpliedMonthOut(MonthSummaryOut):
    log_sd: float = Field(description="spread of the month's log value given the flash alone")


class FlashUsedOut(Out):
    """The partial-month figure the paths' first month was conditioned on."""

    month: str = Field(description="the month the flash is part of (not yet published)")
    period: str = Field(description="d1_10 or d1_20: cumulative from the 1st to that day")
    value: float
    used: bool = Field(description="false when there is too little flash history to read it")
    reason: str | None = Field(description="why the flash was not used; null when it was")
    history_months: int = Field(description="past months of this period the ratio learned from")
    implied: ImpliedMonthOut | None = Field(
        description="the full month as the flash alone says it (learned ratio x flash)"
    )
    month_before: MonthSummaryOut | None = Field(description="the month as the model saw it")
    month_after: MonthSummaryOut | None = Field(
        description="the month in the served paths, conditioned on the flash"
    )


class ForecastBody(Out):
    """A forecast of one series (or one node of a hierarchy) from its paths."""

    series: str
    unit: str
    model: str
    members: list[str]
    description: str
    data_through: str
    levels: list[float]
    n_paths: int
    years: list[YearOut]
    targets: list[TargetOut]
    monthly: list[MonthOut]
    weights: dict[str, float] | None = Field(
        description="share of paths each member of `auto` drew; null for a single model"
    )
    calibration_scale: float | None = Field(
        description="conformal widening (> 1) or narrowing of the current year's interval"
    )
    horizon_calibration: dict[str, HorizonStepOut] | None = Field(
        None,
        description="horizon (2 = next year) -> how that year's totals were corrected, "
        "learned from the backtest of that horizon; the last serves the years beyond",
    )
    break_detected: bool | None = Field(
        description="the latest months surprised the members enough to re-weight them"
    )
    expected_error: ExpectedErrorOut | None
    flash: FlashUsedOut | None = Field(
        description="the flash used for the month after `data_through`; null without one"
    )


class ForecastOut(ForecastBody):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLES["forecast"]]})

    model_version: int
    generated_at: str = Field(description="when the model version was made")
    moves: str | None = Field(
        description="why this version moved from the one served before it (a path); null "
        "for a series' first version"
    )


class MonthlyForecastOut(Out):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLES["monthly"]]})

    series: str
    unit: str
    model: str
    members: list[str]
    data_through: str
    levels: list[float]
    n_paths: int
    monthly: list[MonthOut]
    model_version: int
    generated_at: str


# -- hierarchies ------------------------------------------------------------------------
NODE_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class HierarchyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "total_series": "kr-exports",
                    "classification": "kcs10",
                    "items": {
                        "semiconductors": "kr-exports.semiconductors",
                        "ships": "kr-exports.ships",
                    },
                    "targets": {"total": [700000, 1000000], "semiconductors": [250000]},
                }
            ]
        },
    )

    total_series: str = Field(pattern=SERIES_ID)
    classification: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z0-9_]+$",
        description="the one classification every item belongs to (items of different "
        "classifications overlap and are never added up)",
    )
    items: dict[
        Annotated[str, StringConstraints(pattern=NODE_NAME)],
        Annotated[str, StringConstraints(pattern=SERIES_ID)],
    ] = Field(
        min_length=1,
        max_length=200,
        description="node name -> item series id; 'other' (the total less the items) is added",
    )
    targets: dict[str, list[float]] = Field(
        default_factory=dict,
        description="node ('total', an item, 'other') -> amounts to give P(at least) for; "
        "default: the total series' targets",
    )

    @field_validator("items")
    @classmethod
    def _items(cls, items: dict[str, str]) -> dict[str, str]:
        # Names and ids already match their patterns (the key and value types say so).
        reserved = sorted({"total", "other"} & set(items))
        if reserved:
            raise ValueError(f"item names {reserved} are the hierarchy's own nodes")
        if len(set(items.values())) != len(items):
            raise ValueError("an item series is named twice")
        return items

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: dict[str, list[float]]) -> dict[str, list[float]]:
        return {node: list(check_targets(amounts)) for node, amounts in targets.items()}


class HierarchySummaryOut(Out):
    id: str
    total_series: str
    classification: str
    items: dict[str, str] = Field(description="node name -> item series id")
    targets: dict[str, list[float]]
    nodes: list[str] = Field(description="total, the items, other")
    methods: list[str] = Field(description="reconciliation methods served")
    version: int | None = Field(description="latest version; null until the first is made")
    data_through: str | None
    created_at: str
    problem: str | None = Field(
        description="why the last update failed (the latest version, if any, still serves); "
        "null once one succeeds"
    )


class HierarchyList(Out):
    hierarchies: list[HierarchySummaryOut]


class HierarchySpecOut(Out):
    id: str
    total_series: str
    classification: str
    items: list[str]


class SpreadOut(Out):
    median: float
    intervals: dict[str, Interval] = Field(description="level in percent -> [low, high]")


class ShareOut(SpreadOut):
    year: int


class ConcentrationOut(Out):
    year: int
    top_item: str = Field(description="the item largest on most paths")
    top_item_paths: float = Field(description="share of paths on which it is the largest")
    top_share: SpreadOut = Field(description="the largest item's share of the total")
    top3_share: SpreadOut = Field(description="the three largest items' share of the total")
    items_share: SpreadOut = Field(description="all the items' share of the total")
    herfindahl: SpreadOut = Field(description="sum of the items' squared shares of the total")


class ConcentrationPastOut(Out):
    year: int
    total: float
    top_item: str
    top_share: float
    top3_share: float
    items_share: float
    herfindahl: float


class CouplingOut(Out):
    growth_months: int
    shrinkage: float


class CoherenceOut(Out):
    method: str
    coupling: CouplingOut = Field(
        description="paths coupled by the correlation of the nodes' year-on-year growth over "
        "`growth_months`, shrunk towards none by `shrinkage`"
    )
    weight_on_total_forecast: float = Field(
        description="how much of the total's own forecast the coherent total keeps (1: all)"
    )
    calibration_scale: float = Field(
        description="how far the coherent paths were widened together (1: not at all)"
    )
    calibration_cases: int = Field(description="past reconciled cases the scale learned from")
    covariance_shrinkage: float | None = None
    floored_values: int = Field(description="values the linear map took below zero (floored)")
    largest_gap: float = Field(
        description="largest |total - sum of its nodes| over the paths' year totals, each "
        "node's own published months included, to the 3 decimals the totals are given in"
    )


class HierarchyForecastOut(Out):
    hierarchy: HierarchySpecOut
    method: str
    methods: list[str]
    unit: str
    data_through: str
    n_paths: int
    levels: list[float]
    nodes: dict[str, ForecastBody] = Field(
        description="node -> its forecast, from the coherent paths"
    )
    shares: dict[str, list[ShareOut]] = Field(description="node -> its share of the total by year")
    concentration: list[ConcentrationOut]
    history: list[ConcentrationPastOut] = Field(description="concentration in the years published")
    coherence: CoherenceOut
    series: dict[str, str] = Field(description="node -> the series it is read from")
    refit: list[str] = Field(description="nodes fitted for this version (the rest were reused)")
    version: int
    generated_at: str


# -- markets ---------------------------------------------------------------------------
# Years 1900-2199, as `Period.parse` takes them.
PERIOD = r"^(19[0-9]{2}|2[01][0-9]{2})(-(0[1-9]|1[0-2]))?$"
DESTINATION = r"^([A-Z]{3}|WORLD|REGION_[A-Z0-9_]{1,40})$"


class DestinationIn(BaseModel):
    period: str = Field(pattern=PERIOD, examples=["2026-06"], description="YYYY or YYYY-MM")
    destination: str = Field(
        pattern=DESTINATION,
        examples=["CHN"],
        description="ISO 3166 alpha-3 code, WORLD (all partners), or a REGION_ aggregate "
        "(kept, never added to partners)",
    )
    value: float = Field(ge=0, le=MAX_VALUE, examples=[20002.3], description="series' unit")


class DestinationBatch(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "destinations": [
                        {"period": "2026-07", "destination": "WORLD", "value": 97000.0},
                        {"period": "2026-07", "destination": "CHN", "value": 21681.2},
                    ]
                }
            ]
        }
    )
    destinations: list[DestinationIn] = Field(min_length=1, max_length=MAX_ROWS)


class DestinationKey(Out):
    period: str
    destination: str


class DestinationOut(DestinationKey):
    value: float
    recorded_at: str


class DestinationList(Out):
    series: str
    as_of: str | None
    destinations: list[DestinationOut]


class DestinationsAccepted(Out):
    accepted: int
    new: list[DestinationKey]
    revised: list[DestinationKey]
    unchanged: list[DestinationKey]


class RegionOut(Out):
    id: str
    name: str
    codes: list[str] = Field(description="ISO 3166 alpha-3 codes; rest: every other code")


class PublishedCompositionOut(Out):
    period: str = Field(description="a year, or the twelve months YYYY-MM..YYYY-MM")
    basis: str = Field(description="year, partial year (some partners only) or twelve months")
    total: float = Field(description="exports to the world in the period")
    partners: int
    coverage: float = Field(description="the listed partners' share of the world total")
    shares: dict[str, float | None] = Field(description="region -> share; null: not known")
    partner_herfindahl: float | None = Field(description="over every partner (complete years)")
    herfindahl: float | None = None
    top_share: float | None = None
    top3_share: float | None = None


class RegionYearOut(Out):
    share: SpreadOut = Field(
        description="median: the composition's centre, so the regions' medians add to one; "
        "intervals: the region's own quantiles over the paths"
    )
    exports: SpreadOut = Field(description="its share times the total, path by path")


class MarketConcentrationOut(Out):
    top_region: str = Field(description="the region largest on most paths")
    top_region_paths: float
    herfindahl: SpreadOut = Field(description="sum of the named regions' squared shares")
    top_share: SpreadOut
    top3_share: SpreadOut


class ShareTargetOut(Out):
    target: str = Field(description="e.g. china<0.18 or asean+eu>0.3333")
    probability: float


class MarketYearOut(Out):
    year: int
    months_observed: int = Field(description="months of the year's total already published")
    total: SpreadOut
    regions: dict[str, RegionYearOut]
    concentration: MarketConcentrationOut
    targets: list[ShareTargetOut]


class MarketModelOut(Out):
    method: str
    fitted_on: list[str] = Field(description="the compositions the shares' model learned from")
    momentum: dict[str, float] = Field(
        description="region -> the part of its last yearly change of log-share kept a year"
    )
    pooled_momentum: float = Field(description="the regions' common lag-1 autocorrelation")
    noise_power: float
    origins: int


class MarketCoherenceOut(Out):
    largest_relative_gap: float = Field(
        description="largest |total - sum of the regions| / total over every path and year"
    )


class YearToDateOut(Out):
    year: int
    months: int = Field(description="its first months published by destination")
    world: float
    shares: dict[str, float] = Field(description="named region -> its share of those months")


class MarketsOut(Out):
    series: str
    model_version: int = Field(description="the total's model version whose paths are used")
    generated_at: str
    destinations_as_of: str = Field(description="when the newest destination row was stored")
    unit: str
    data_through: str = Field(description="the total's last published month")
    newest_composition: str
    year_to_date: YearToDateOut | None = Field(
        description="the year in progress's published months by region: facts, to which "
        "each path adds its share of the rest of the year"
    )
    n_paths: int
    levels: list[float]
    regions: list[RegionOut]
    model: MarketModelOut
    published: list[PublishedCompositionOut]
    years: list[MarketYearOut]
    coherence: MarketCoherenceOut
