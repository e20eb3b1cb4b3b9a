"""A forecast question read from a request's query: one reading for the routes and the
front door, so both ask the same question of the same text.

The routes turn a `BadQuestion` into a 422 naming the parameter. The front door reads the
raw query string itself (`from_query`) and answers only what it reads without doubt: a
parameter it does not know, one given twice or a value that is not plainly a number gives
`None`, and the request goes to the route, which answers it (or says what is wrong).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from exportcast.models import limits
from exportcast.service.serving.active import ServedVersion
from exportcast.service.serving.bodies import ForecastQuery

DEFAULT_LEVELS_TEXT = ",".join(f"{level:g}" for level in limits.DEFAULT_LEVELS)
_WHOLE = re.compile(r"[1-9][0-9]{0,2}")
_ANNUAL = frozenset({"years", "levels", "targets", "model"})
_MONTHLY = frozenset({"horizon", "levels", "model"})


class BadQuestion(ValueError):
    """A parameter's value the question cannot be asked with (its message names it)."""


def _numbers(name: str, text: str) -> list[float]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise BadQuestion(f"{name}: {text!r} is not a comma-separated list of numbers") from None


def levels_of(text: str) -> tuple[float, ...]:
    try:
        return limits.check_levels(_numbers("levels", text))
    except ValueError as exc:
        raise BadQuestion(str(exc)) from None


def targets_of(text: str | None, default: tuple[float, ...]) -> tuple[float, ...]:
    if text is None:
        return default
    try:
        return limits.check_targets(_numbers("targets", text))
    except ValueError as exc:
        raise BadQuestion(str(exc)) from None


def model_of(served: ServedVersion, model: str | None) -> str | None:
    """None for the version's own model (the whole ensemble), else one of its members."""
    if model is None or model == served.model:
        return None
    if model not in served.members:
        choices = ", ".join([served.model, *served.members])
        raise BadQuestion(f"model: {model!r} is not in version {served.version} ({choices})")
    return model


def annual(
    served: ServedVersion, years: int, levels: str, targets: str | None, model: str | None
) -> ForecastQuery:
    return ForecastQuery(
        "annual",
        model=model_of(served, model),
        years=years,
        levels=levels_of(levels),
        targets=targets_of(targets, served.targets),
    )


def monthly(served: ServedVersion, horizon: int, levels: str, model: str | None) -> ForecastQuery:
    return ForecastQuery(
        "monthly", model=model_of(served, model), levels=levels_of(levels), horizon=horizon
    )


def from_query(query: bytes, kind: str, served: ServedVersion) -> ForecastQuery | None:
    """The question a raw query string asks, or None when the front door should not answer
    it (see the module's docstring)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs) or not params.keys() <= (
        _ANNUAL if kind == "annual" else _MONTHLY
    ):
        return None
    try:
        levels = params.get("levels", DEFAULT_LEVELS_TEXT)
        if kind == "annual":
            years = _whole(params.get("years"), limits.DEFAULT_YEARS, limits.MAX_YEARS)
            if years is None:
                return None
            return annual(served, years, levels, params.get("targets"), params.get("model"))
        horizon = _whole(params.get("horizon"), limits.DEFAULT_MONTHLY_HORIZON, limits.MAX_HORIZON)
        if horizon is None:
            return None
        return monthly(served, horizon, levels, params.get("model"))
    except BadQuestion:
        return None


def _whole(text: str | None, default: int, most: int) -> int | None:
    """A count given as plain digits within 1..most (None for anything else)."""
    if text is None:
        return default
    if not _WHOLE.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= most else None
