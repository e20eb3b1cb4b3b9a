"""A bounded map, least recently used out: for what is made per question a client chooses
(a level, a target), so that what is kept stays bounded whatever clients ask."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(OrderedDict[K, V]):
    """A bounded map, least recently used out, safe to share between threads."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self._lock = threading.Lock()

    def made(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            found = self.get(key)
            if found is not None:
                self.move_to_end(key)
                return found
        value = make()  # outside the lock: two threads may make it, both the same
        with self._lock:
            self[key] = value
            while len(self) > self.size:
                self.popitem(last=False)
        return value
