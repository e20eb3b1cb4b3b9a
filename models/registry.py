"""Models by name. Adding a model family means one module in `families/` and one line here.

`get_model` is also the factory that evaluation is handed: backtests fit models by name
through it, without importing this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from exportcast.models.ensemble import Ensemble
from exportcast.models.families import prophet
from exportcast.models.families.base import Model
from exportcast.models.families.ets import ETS
from exportcast.models.families.growth import Growth
from exportcast.models.families.naive import Level, YoY
from exportcast.models.families.sarima import SARIMA
from exportcast.models.families.snaive import SeasonalNaive
from exportcast.models.families.theta import Theta

SINGLE: dict[str, Callable[[], Model]] = {
    "ets": ETS,
    "sarima": SARIMA,
    "prophet": prophet.ProphetModel,
    "growth": Growth,
    "snaive": SeasonalNaive,
    "level": Level,
    "yoy": YoY,
    "theta": Theta,
}

# Outside references for the accuracy benchmarks, not offered to users.
REFERENCES: dict[str, Callable[[], Model]] = {
    "prophet_default": lambda: prophet.ProphetModel(log_scale=False, name="prophet_default"),
}

# Prophet is not a default member: on the bundled series' backtest its year-end error was
# twice the others' and its intervals covered a third of outcomes (see README, Accuracy).
# Theta earned its place on all three bundled series (`benchmarks/members.py`); the naive
# members (snaive, level, yoy) did not, and are offered as models only.
AUTO_MEMBERS: tuple[str, ...] = ("ets", "sarima", "growth", "theta")

NAMES: tuple[str, ...] = ("auto", *SINGLE)


def auto_members(members: Sequence[str] = AUTO_MEMBERS) -> list[str]:
    """Members that can run here (Prophet only when it imports)."""
    return [n for n in members if n != "prophet" or prophet.available()]


def get_model(name: str, members: Sequence[str] = AUTO_MEMBERS) -> Model:
    """A model by name; `auto` mixes `members` equally until it is given what it learned
    (see `core.fit_auto`)."""
    if name == "auto":
        return Ensemble([SINGLE[n]() for n in auto_members(members)])
    try:
        return (SINGLE | REFERENCES)[name]()
    except KeyError:
        raise KeyError(f"unknown model {name!r} (choose from {', '.join(NAMES)})") from None
