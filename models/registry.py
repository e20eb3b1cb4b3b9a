"""Models by name. Adding a model family means one module and one line here."""

from __future__ import annotations

from collections.abc import Callable

from models import prophet_model
from models.arima import SARIMA
from models.base import Model
from models.ensemble import Ensemble
from models.ets import ETS
from models.naive import SeasonalNaive
from models.prophet_model import ProphetModel

SINGLE: dict[str, Callable[[], Model]] = {
    "ets": ETS,
    "sarima": SARIMA,
    "prophet": ProphetModel,
    "snaive": SeasonalNaive,
}

AUTO_MEMBERS: tuple[str, ...] = ("ets", "sarima", "prophet")

NAMES: tuple[str, ...] = ("auto", *SINGLE)


def auto_members() -> list[str]:
    """The default ensemble's members that can run here (Prophet only when it imports)."""
    return [n for n in AUTO_MEMBERS if n != "prophet" or prophet_model.available()]


def get_model(name: str) -> Model:
    if name == "auto":
        return Ensemble([SINGLE[n]() for n in auto_members()])
    try:
        return SINGLE[name]()
    except KeyError:
        raise KeyError(f"unknown model {name!r} (choose from {', '.join(NAMES)})") from None
