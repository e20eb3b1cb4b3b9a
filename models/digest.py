"""One digest for "made from exactly this": cache keys, version bases, ETags.

Arrays are hashed by their float64 bytes (so an int array and a float one of the same
values agree, and nothing depends on how the array was laid out in memory); every other
part by its JSON with sorted keys. A separator ends each part, so ("ab", "c") and
("a", "bc") never collide.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

LENGTH = 32  # hex digits: 128 bits, far past any chance collision among keys


def digest(*parts: object) -> str:
    """sha256 over `parts`, as `LENGTH` hex digits (callers may keep fewer)."""
    hashed = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            hashed.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
        else:
            hashed.update(json.dumps(part, sort_keys=True, default=str).encode())
        hashed.update(b"|")
    return hashed.hexdigest()[:LENGTH]
