"""All configuration, read once from `EXPORTCAST_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from exportcast.models import limits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXPORTCAST_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="where the SQLite file lives")
    cache_dir: Path | None = Field(
        None, description="backtest fits auto learns from; default: data_dir/cache"
    )
    metrics_dir: Path | None = Field(
        None,
        description="where `serve` workers keep the /metrics counters they add up, emptied at "
        "start; default: data_dir/metrics (PROMETHEUS_MULTIPROC_DIR, when set, wins)",
    )
    database_url: str = Field(
        "", description="sqlite:///FILE or postgresql://...; default: SQLite in data_dir"
    )
    api_token: SecretStr | None = Field(
        None, description="bearer token for writes; unset = writes refused"
    )
    read_requires_token: bool = Field(
        False,
        description="require the token for reads too (the API, /metrics, the dashboard, the "
        "docs); browsers sign in at /login and get a session cookie",
    )
    session_hours: float = Field(
        12.0,
        gt=0,
        le=24 * 90,
        description="how long a dashboard sign-in (/login) lasts before the token is asked "
        "again; changing the token signs every session out at once",
    )
    session_cookie_secure: bool = Field(
        False,
        description="mark the session cookie Secure (sent over HTTPS only): set it when the "
        "service is reached through HTTPS",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1

    model: str = Field("auto", description="model fitted on each retrain")
    n_paths: int = Field(
        limits.DEFAULT_PATHS,
        ge=limits.MIN_PATHS,
        le=limits.MAX_PATHS,
        description="sample paths per model version",
    )
    seed: int = 0
    train_jobs: int = Field(
        2,
        ge=1,
        le=64,
        description="processes for the backtest fits a retrain learns from (kept between "
        "retrains); 1 fits them in the training process itself",
    )
    dask_scheduler: str | None = Field(
        None,
        description="a Dask scheduler's address (tcp://host:8786): retrains send their "
        "backtest fits there instead of to local processes",
    )
    train_slots: int = Field(
        1,
        ge=1,
        le=64,
        description="retrains run at once by each service process, each in a training "
        "process of its own (of different series); more helps many series",
    )
    prefetch: bool = Field(
        True,
        description="after a retrain, fit while idle the backtests the next month will need",
    )
    explain_moves: bool = Field(
        True,
        description="explain why each new version moved from the one served before it "
        "(a few refits in the retrain's slot, stored with the version)",
    )
    quick_versions: bool = Field(
        True,
        description="with prefetch: a new series or month is served at once, `auto` "
        "learning from the pooled prior and the backtest fits already made; the missing "
        "fits are made in an idle slot and a refined version follows",
    )
    track_after_idle_seconds: float = Field(
        60.0,
        ge=0,
        le=86_400,
        description="seconds without a retrain before an idle slot makes a series' backtest "
        "track record at every months-known (one group a step), so it never delays a month",
    )
    bootstrap: bool = Field(
        True, description="load and train the bundled series into an empty store"
    )
    bootstrap_items: bool = Field(
        True,
        description="with the bundled series, bootstrap its exports by item as series of "
        "their own and the hierarchy over them (kr-exports-items)",
    )
    max_body_bytes: int = Field(2_000_000, description="largest request body accepted")
    max_series: int = Field(
        10_000, ge=1, description="series a store may hold; creating one more is refused (409)"
    )
    poll_seconds: float = Field(
        0.25, gt=0, description="how often each worker checks for new versions and jobs"
    )
    job_lease_seconds: float = Field(
        120.0,
        gt=0,
        description="a running job without a heartbeat this long is queued again (its worker died)",
    )
    job_max_attempts: int = Field(
        3, ge=1, le=20, description="times a job is started before a dead worker fails it"
    )
    job_retry_seconds: float = Field(
        5.0, ge=0, description="wait before re-running a dead worker's job, doubled each time"
    )
    implausible_factor: float = Field(
        4.0,
        gt=1,
        description="reject a version whose first-year median is this far off the last year",
    )
    loaded_versions: int = Field(
        16,
        ge=1,
        description="versions whose paths each process keeps in memory for non-default "
        "parameters (2.9 MB each); others are read back from the store when asked",
    )
    response_cache_size: int = Field(
        256,
        ge=0,
        description="forecast responses kept per process for non-default parameters, over "
        "all series",
    )

    def fit_cache(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    def metrics_path(self) -> Path:
        return self.metrics_dir or self.data_dir / "metrics"

    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'exportcast.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
