"""Defaults and limits of the questions the engine answers, in one place.

The engine, the command line and the API all read these, so a question the CLI accepts is
one the API accepts too. Each check raises ValueError with a message that names the
parameter, which the API turns into a 422 and the CLI into its usage error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

DEFAULT_YEARS = 5
MAX_YEARS = 30  # calendar years a question may cover, the current one first
DEFAULT_LEVELS: tuple[float, ...] = (80.0, 95.0)
MIN_LEVEL, MAX_LEVEL = 1.0, 99.9  # interval levels in percent
MAX_LEVELS = 6
MAX_TARGETS = 10
DEFAULT_PATHS = 2000
MIN_PATHS, MAX_PATHS = 100, 20_000
DEFAULT_MONTHLY_HORIZON = 24
MAX_HORIZON = 12 * MAX_YEARS  # months of paths a stored version carries


def check_years(years: int) -> int:
    if not 1 <= years <= MAX_YEARS:
        raise ValueError(f"years: {years} is not between 1 and {MAX_YEARS}")
    return years


def check_paths(n_paths: int) -> int:
    if not MIN_PATHS <= n_paths <= MAX_PATHS:
        raise ValueError(f"paths: {n_paths} is not between {MIN_PATHS} and {MAX_PATHS}")
    return n_paths


def check_levels(levels: Iterable[float]) -> tuple[float, ...]:
    """Distinct levels in increasing order; each between MIN_LEVEL and MAX_LEVEL percent."""
    values = [float(v) for v in levels]
    if not values:
        raise ValueError("levels: give at least one level")
    if len(values) > MAX_LEVELS:
        raise ValueError(f"levels: at most {MAX_LEVELS} values")
    if any(not (math.isfinite(v) and MIN_LEVEL <= v <= MAX_LEVEL) for v in values):
        raise ValueError(
            f"levels: each level must be between {MIN_LEVEL:g} and {MAX_LEVEL:g} (percent)"
        )
    return tuple(sorted(set(values)))


def check_targets(targets: Iterable[float]) -> tuple[float, ...]:
    """Distinct finite amounts above zero, in increasing order."""
    values = [float(v) for v in targets]
    if len(values) > MAX_TARGETS:
        raise ValueError(f"targets: at most {MAX_TARGETS} values")
    if any(not (math.isfinite(v) and v > 0) for v in values):
        raise ValueError("targets: each target must be > 0 and finite")
    return tuple(sorted(set(values)))
