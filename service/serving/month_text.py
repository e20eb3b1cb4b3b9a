"""The monthly array of a forecast body as JSON text, written from pieces made once per
version, member and level.

A long question's body is mostly its months (up to 360, each with its median, mean and an
interval per level). Validating and dumping them through the response schema cost several
times the rest of the body, and every month reads the same few numbers per level. So the
body is dumped by its schema with no months (`ForecastOut`, `MonthlyForecastOut`), and the
months are joined from text made once: each month's head, and each level's intervals, every
number formatted by pydantic's own serialiser, so the bytes are the schema's to the byte (a
test compares them with the full schema dump over random questions).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

from pydantic_core import to_json

from exportcast.models.recent import Recent
from exportcast.models.results import level_key
from exportcast.models.simulation import MonthTable, Simulation, rounded


def json_floats(values: Sequence[float]) -> list[str]:
    """Each number as the response schemas write a float."""
    if not values:
        return []
    return to_json([float(v) for v in values]).decode()[1:-1].split(",")


class MonthText:
    """One simulation's months as JSON text; see the module's docstring."""

    # Levels are the clients' to choose: bounded, least recently used out. Each is kept as
    # one string (about 9 kB for 360 months), split when a question reads it.
    LEVELS = 128

    def __init__(self, table: MonthTable):
        self.table = table
        medians, means = json_floats(table.median), json_floats(table.mean)
        self.heads = [
            f'{{"month":{to_json(month).decode()},"median":{median},"mean":{mean},"intervals":{{'
            for month, median, mean in zip(table.months, medians, means, strict=True)
        ]
        self._levels: Recent[float, str] = Recent(self.LEVELS)

    def level(self, level: float) -> str:
        """Every month's `"80":[low,high]` for one level, a line each."""

        def make() -> str:
            low, high = self.table.sorted.central_interval(level)
            key = to_json(level_key(level)).decode()
            lows, highs = json_floats(rounded(low)), json_floats(rounded(high))
            return "\n".join(f"{key}:[{lo},{hi}]" for lo, hi in zip(lows, highs, strict=True))

        return self._levels.made(level, make)

    def array(self, horizon: int, levels: Sequence[float]) -> bytes:
        """The first `horizon` months, as the `monthly` array of a body."""
        if horizon > len(self.heads):
            raise ValueError(f"the paths cover {len(self.heads)} months, {horizon} were asked for")
        columns = [self.level(float(level)).split("\n", horizon)[:horizon] for level in levels]
        intervals = map(",".join, zip(*columns, strict=True))
        rows = map(
            "".join, zip(self.heads[:horizon], intervals, repeat("}}", horizon), strict=True)
        )
        return ("[" + ",".join(rows) + "]").encode()


def month_text(sim: Simulation) -> MonthText:
    """The simulation's month text, made on first use and kept as long as its paths are."""
    return sim.kept("month_text", lambda: MonthText(sim.month_table))


def filled(dumped: bytes, arrays: dict[str, bytes]) -> bytes:
    """A body dumped with empty arrays under `arrays`' keys, with each filled in its place
    (each key must be found exactly once, as an empty array), in one pass."""
    places = []
    for key, text in arrays.items():
        empty = b'"' + key.encode() + b'":[]'
        at = dumped.find(empty)
        if at < 0 or dumped.find(empty, at + 1) >= 0:
            raise ValueError(f"the body has no single empty {key} array to fill")
        places.append((at + len(empty) - 2, text))  # where its "[]" starts
    places.sort(key=lambda place: place[0])
    pieces, start = [], 0
    for at, text in places:
        pieces += [dumped[start:at], text]
        start = at + 2
    pieces.append(dumped[start:])
    return b"".join(pieces)
