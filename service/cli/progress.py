"""Progress of long fits on a terminal: a live bar there, nothing in a pipe or a CI log."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm


def progress_bar(description: str) -> Callable[[int, int], None]:
    """A `(done, total)` callback for the engine, drawn with tqdm; tqdm draws only when
    stderr is a terminal (`disable=None`)."""
    bar: tqdm | None = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if total == 0:
            return
        if bar is None:
            bar = tqdm(total=total, desc=description, unit="fit", file=sys.stderr, disable=None)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update
