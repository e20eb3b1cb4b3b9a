"""What the API speaks, apart from how it is stored. Examples feed the OpenAPI docs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SERIES_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


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
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(min_length=1, max_length=50)
    targets: list[float] = Field(
        default_factory=list, max_length=10, description="default targets for the forecast"
    )


class SeriesOut(BaseModel):
    id: str
    name: str
    unit: str
    targets: list[float]
    first_month: str | None
    last_month: str | None
    n_observations: int
    active_model_version: int | None


class SeriesList(BaseModel):
    series: list[SeriesOut]


class ObservationIn(BaseModel):
    month: str = Field(examples=["2026-06"], description="YYYY-MM")
    value: float = Field(gt=0, examples=[91234.5])


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
    observations: list[ObservationIn]


class ObservationOut(BaseModel):
    month: str
    value: float
    recorded_at: str


class ObservationList(BaseModel):
    series: str
    as_of: str | None
    observations: list[ObservationOut]


class JobRef(BaseModel):
    id: int
    status_url: str


class IngestAccepted(BaseModel):
    accepted: int
    new_months: list[str]
    revised_months: list[str]
    unchanged_months: list[str]
    job: JobRef | None


class JobOut(BaseModel):
    id: int
    series: str
    status: str = Field(description="queued, running, succeeded or failed")
    model_version: int | None
    error: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class VersionOut(BaseModel):
    version: int
    created_at: str
    data_through: str
    model: str
    members: list[str]
    description: str
    fit_seconds: float
    status: str = Field(description="active or standby")
    active: bool
    info: dict


class VersionList(BaseModel):
    series: str
    versions: list[VersionOut]


class Problem(BaseModel):
    message: str
    line: int | None = None
    where: str | None = None
    month: str | None = None


class Rejected(BaseModel):
    detail: str
    errors: list[Problem]


class Detail(BaseModel):
    detail: str


class YearOut(BaseModel):
    year: int
    months_observed: int
    actual_to_date: float
    median: float
    mean: float
    intervals: dict[str, list[float]]
    prob_at_least: dict[str, float]


class TargetOut(BaseModel):
    amount: float
    first_year_p50: int | None
    crossing_year: dict[str, float]


class MonthOut(BaseModel):
    month: str
    median: float
    mean: float
    intervals: dict[str, list[float]]


class ForecastOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "series": "kr-exports",
                    "unit": "USD millions",
                    "model": "auto",
                    "members": ["ets", "sarima", "prophet"],
                    "description": "mixture of sample paths",
                    "data_through": "2026-05",
                    "levels": [80.0, 95.0],
                    "n_paths": 2000,
                    "years": [
                        {
                            "year": 2026,
                            "months_observed": 5,
                            "actual_to_date": 394461.47,
                            "median": 1008528.0,
                            "mean": 997000.0,
                            "intervals": {"80": [869518, 1095901], "95": [857337, 1142948]},
                            "prob_at_least": {"700000": 1.0, "1000000": 0.537},
                        }
                    ],
                    "targets": [
                        {
                            "amount": 1000000.0,
                            "first_year_p50": 2026,
                            "crossing_year": {"2026": 0.537, "2027": 0.06, "later": 0.184},
                        }
                    ],
                    "monthly": [],
                    "model_version": 3,
                    "generated_at": "2026-06-15T09:00:00.000000Z",
                }
            ]
        }
    )
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
    model_version: int
    generated_at: str


class MonthlyForecastOut(BaseModel):
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
