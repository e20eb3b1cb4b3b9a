"""The pooled prior: what hundreds of other series' backtests say `auto` should learn,
before a series has said anything of itself. A small versioned JSON file in the package.

Every quantity is a function of the months known `m` (0-11), smooth by construction: each
is pooled from the cases at every m, weighted by a triangular kernel in the distance of
their m from it (`kernel`), so no boundary exists at which a parameter could jump.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1
KERNEL_HALF_WIDTH = 3.0  # months: cases at m +- 1 count 2/3, at m +- 2 count 1/3
PERCENTILES = np.arange(1, 100)  # the pooled ratio distributions are kept as these
FILE = "pooled-prior.json"


def kernel(ms: np.ndarray, m: float) -> np.ndarray:
    """Weights of cases at months known `ms` for a question at `m`."""
    return np.clip(1.0 - np.abs(np.asarray(ms, dtype=float) - m) / KERNEL_HALF_WIDTH, 0.0, None)


def kernel_months(m: int) -> list[int]:
    """The months known whose cases count at `m` (the origins a series is backtested at)."""
    return [k for k in range(12) if kernel(np.array([k]), m)[0] > 0]


@dataclass(frozen=True)
class Prior:
    """See the module docstring; `pseudo_cases` says how many of a series' own cases the
    prior weighs as, for each quantity (learned by empirical Bayes, see `build`)."""

    members: tuple[str, ...]
    features: tuple[str, ...]
    feature_mean: tuple[float, ...]
    feature_sd: tuple[float, ...]
    # Per member: coefficients of its expected error relative to the members' mean, on
    # [1, standardised features..., m / 11].
    weight_coef: dict[str, tuple[float, ...]]
    now_ratios: tuple[tuple[float, ...], ...]  # [m] -> percentiles 1-99
    growth: tuple[float, ...]  # [m]
    later_ratios: tuple[tuple[tuple[tuple[float, ...], ...], ...], ...]  # [h-2][m][80/95]
    pseudo_cases: dict[str, float]
    sources: tuple[dict[str, Any], ...] = ()
    made_by: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT

    def relative_errors(self, features: np.ndarray, m: float) -> dict[str, float]:
        """Each member's expected error relative to the members' mean on a series with
        these features at `m` (1: as good as the average member)."""
        x = self.design(features, m)
        raw = {n: float(np.clip(x @ np.asarray(c), 0.2, 5.0)) for n, c in self.weight_coef.items()}
        mean = float(np.mean(list(raw.values())))
        return {n: v / mean for n, v in raw.items()}

    def design(self, features: np.ndarray, m: float) -> np.ndarray:
        f = np.asarray(features, dtype=float)
        if len(f) != len(self.features):
            f = np.asarray(self.feature_mean)
        z = (f - np.asarray(self.feature_mean)) / np.asarray(self.feature_sd)
        return np.r_[1.0, np.clip(z, -4, 4), m / 11.0]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: Path) -> None:
        # One top-level key a line: small, and a rebuild's diff says what moved.
        items = _rounded(self.to_dict()).items()
        lines = ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in items)
        path.write_text("{\n" + lines + "\n}\n")


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def from_dict(data: dict[str, Any]) -> Prior:
    if data.get("format") != FORMAT:
        raise ValueError(f"prior format {data.get('format')!r}: this code reads {FORMAT}")
    fields = {k: _tuples(v) for k, v in data.items()}
    fields["weight_coef"] = {k: tuple(v) for k, v in data["weight_coef"].items()}
    fields["pseudo_cases"] = dict(data["pseudo_cases"])
    fields["sources"] = tuple(data.get("sources", ()))
    fields["notes"] = dict(data.get("notes", {}))
    return Prior(**fields)


def load(path: Path) -> Prior:
    return from_dict(json.loads(Path(path).read_text()))


@lru_cache(maxsize=1)
def shipped() -> Prior | None:
    """The prior shipped in the package; None if it is missing (auto then learns alone)."""
    resource = resources.files("exportcast.models.prior") / FILE
    if not resource.is_file():
        return None
    return from_dict(json.loads(resource.read_text()))
