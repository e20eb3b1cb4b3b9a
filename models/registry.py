"""Models by name. Adding a model family means one module and one line here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from models import prophet_model
from models.arima import SARIMA
from models.base import Model
from models.ensemble import Ensemble, Learning
from models.ets import ETS
from models.growth import Growth
from models.naive import SeasonalNaive
from models.prophet_model import ProphetModel

SINGLE: dict[str, Callable[[], Model]] = {
    "ets": ETS,
    "sarima": SARIMA,
    "prophet": ProphetModel,
    "growth": Growth,
    "snaive": SeasonalNaive,
}

# Outside references for the accuracy benchmarks, not offered to users.
REFERENCES: dict[str, Callable[[], Model]] = {
    "prophet_default": lambda: ProphetModel(log_scale=False, name="prophet_default"),
}

# Prophet is not a default member: on the bundled series' backtest its year-end error was
# twice the others' and its intervals covered a third of outcomes (see README, Accuracy).
AUTO_MEMBERS: tuple[str, ...] = ("ets", "sarima", "growth")

NAMES: tuple[str, ...] = ("auto", *SINGLE)


def auto_members(members: Sequence[str] = AUTO_MEMBERS) -> list[str]:
    """Members that can run here (Prophet only when it imports)."""
    return [n for n in members if n != "prophet" or prophet_model.available()]


def get_model(
    name: str, learning: Learning | None = None, members: Sequence[str] = AUTO_MEMBERS
) -> Model:
    """A model by name. `auto` learns its weights and calibration when given `learning`
    (where to cache backtest fits); without it, it mixes its members equally."""
    if name == "auto":
        return Ensemble([SINGLE[n]() for n in auto_members(members)], learning=learning)
    try:
        return (SINGLE | REFERENCES)[name]()
    except KeyError:
        raise KeyError(f"unknown model {name!r} (choose from {', '.join(NAMES)})") from None
