"""Why the forecast moved since the month before, for the commands that make one from the
engine (`forecast --moves`, `report`): the version of a month earlier is made again as
the service would have served it the day before the month came out (with that month's
flashes), and the move between the two is explained step by step."""

from __future__ import annotations

from collections.abc import Sequence

from exportcast.models.core import explain_move, simulate
from exportcast.models.evaluation.auto import Learning
from exportcast.models.moves import Made, Moves
from exportcast.models.nowcast.flashes import Flash
from exportcast.models.series import MonthlySeries, format_month
from exportcast.models.simulation import Simulation
from exportcast.service.artifacts import as_stored


def since_month_before(
    series: MonthlySeries,
    sim: Simulation,
    flashes: Sequence[Flash],
    country: str | None,
    learning: Learning,
    seed: int,
    targets: Sequence[float],
    years: int = 5,
) -> tuple[str, Moves]:
    """What the move is explained from ("data through <month>") and the move itself. Both
    versions are taken as the service stores them (float32 paths)."""
    before_series = series.through(series.end - 1)
    before_flashes = tuple(f for f in flashes if f.month <= series.end)
    before = simulate(
        before_series,
        sim.model,
        horizon=sim.horizon,
        n_paths=sim.n_paths,
        seed=seed,
        learning=learning,
        flashes=before_flashes,
        country=country,
    )
    before, sim = as_stored(before), as_stored(sim)
    moves = explain_move(
        Made(before_series, before.learned, before_flashes),
        Made(series, sim.learned, tuple(flashes)),
        before,
        sim,
        sim.n_paths,
        seed,
        country,
        years=years,
        targets=targets,
    )
    since = f"data through {format_month(before_series.end)}"
    if any(f.month == series.end for f in before_flashes):
        since += f" with {format_month(series.end)}'s flashes"
    return since, moves
