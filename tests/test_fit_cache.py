"""The backtest fit cache survives what a shared folder sees: a file cut short or not a
cache file at all is dropped and fitted again, and writers of one key at once (threads or
processes) never leave a mixed file or a temporary behind."""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from exportcast.models.evaluation.cache import FitCache
from exportcast.models.evaluation.origins import Fitted

KEY, MODEL = "k" * 32, "ets"
DRAWS = 20_000  # big enough that two writers' bytes interleave


def fitted(value: float) -> Fitted:
    return Fitted(np.full(DRAWS, value), value, np.full(3, value), np.full((2, DRAWS), value))


def check_whole(got: Fitted | None) -> None:
    """A fit one writer wrote, never parts of two."""
    if got is None:
        return
    value = got.seconds
    assert np.all(got.totals == value) and got.totals.shape == (DRAWS,)
    assert got.ahead is not None and np.all(got.ahead == value)


def entry(root: Path) -> Path:
    return root / MODEL / f"{KEY}.npz"


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), id="cut"),
        pytest.param(lambda p: p.write_bytes(b"not a cache file"), id="garbage"),
        pytest.param(lambda p: p.write_bytes(b""), id="empty"),
        pytest.param(lambda p: np.savez(p, seconds=np.array(1.0)), id="no-totals"),
    ],
)
def test_a_broken_file_is_dropped_as_a_miss_and_written_again(tmp_path, caplog, spoil):
    fits = FitCache(tmp_path)
    fits.put(KEY, MODEL, fitted(1.0))
    spoil(entry(tmp_path))
    with caplog.at_level(logging.WARNING, logger="exportcast.cache"):
        assert fits.get(KEY, MODEL) is None
        assert not entry(tmp_path).exists()  # dropped, not failing every later read
        entry(tmp_path).write_bytes(b"broken again")
        assert fits.get(KEY, MODEL) is None
    assert sum("unreadable cache file" in r.message for r in caplog.records) == 1  # once a path
    fits.put(KEY, MODEL, fitted(2.0))
    again = fits.get(KEY, MODEL)
    assert again is not None and again.seconds == 2.0
    np.testing.assert_array_equal(again.totals, np.full(DRAWS, 2.0))


def test_a_missing_file_is_a_quiet_miss(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="exportcast.cache"):
        assert FitCache(tmp_path).get(KEY, MODEL) is None
    assert not caplog.records


def write_many(root: Path, value: float, times: int) -> None:
    fits = FitCache(root)
    for _ in range(times):
        fits.put(KEY, MODEL, fitted(value))


def read_many(root: Path, times: int) -> None:
    fits = FitCache(root)
    for _ in range(times):
        check_whole(fits.get(KEY, MODEL))


def assert_one_whole_file(root: Path, values: set[float]) -> None:
    assert [p.name for p in (root / MODEL).iterdir()] == [f"{KEY}.npz"]  # no temporaries
    got = FitCache(root).get(KEY, MODEL)
    assert got is not None and got.seconds in values
    check_whole(got)


def test_writers_of_one_key_in_threads_never_mix(tmp_path):
    with ThreadPoolExecutor(5) as pool:
        done = [pool.submit(write_many, tmp_path, float(v), 25) for v in range(1, 5)]
        done.append(pool.submit(read_many, tmp_path, 100))
        for future in done:
            future.result()  # re-raises a writer's or the reader's failure
    assert_one_whole_file(tmp_path, {1.0, 2.0, 3.0, 4.0})


def test_writers_of_one_key_in_processes_never_mix(tmp_path):
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(3, mp_context=context) as pool:
        done = [pool.submit(write_many, tmp_path, float(v), 25) for v in (1, 2)]
        done.append(pool.submit(read_many, tmp_path, 100))
        for future in done:
            future.result()
    assert_one_whole_file(tmp_path, {1.0, 2.0})
