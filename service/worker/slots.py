"""Training processes, one per slot, each in a pool of its own: a crash or a timeout kills
only its own slot's process, never work running beside it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from exportcast.models.parallel import process_pool
from exportcast.service.logs import configure_process_logging


class SlotFailed(RuntimeError):
    """The slot's process crashed or overran; it was discarded (the next use starts anew)."""


class Slots:
    def __init__(self, count: int, timeout: float):
        self.timeout = timeout
        self._pools: list[ProcessPoolExecutor | None] = [None] * count

    def __len__(self) -> int:
        return len(self._pools)

    def _pool(self, slot: int) -> ProcessPoolExecutor:
        pool = self._pools[slot]
        if pool is not None and getattr(pool, "_broken", False):
            # Its process died while idle (the OOM killer, an operator): a fresh one.
            self.discard(slot)
            pool = None
        if pool is None:
            # A training process (with `train_jobs` fit processes of its own while it
            # learns), printing its progress in the server's format.
            pool = self._pools[slot] = process_pool(1, configure_process_logging)
        return pool

    async def run(self, slot: int, fn: Callable[..., Any], *args: object) -> Any:
        """`fn(*args)` in the slot's process, within the timeout. Cancelled (a lost lease),
        the process is killed too, so no abandoned run keeps a core busy."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._pool(slot), fn, *args)
            return await asyncio.wait_for(future, timeout=self.timeout)
        except BrokenProcessPool:
            self.discard(slot)
            raise SlotFailed("the training process crashed") from None
        except TimeoutError:
            self.discard(slot)
            raise SlotFailed(f"training took longer than {self.timeout:g}s") from None
        except asyncio.CancelledError:
            self.discard(slot)
            raise

    def discard(self, slot: int) -> None:
        pool, self._pools[slot] = self._pools[slot], None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        for slot in range(len(self._pools)):
            self.discard(slot)
