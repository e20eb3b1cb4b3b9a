"""How concentrated exports are, path by path: items' shares of the total, the top
item's share, the top three's, and a Herfindahl index over the items."""

from __future__ import annotations

import numpy as np


def shares(items: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Each item's share of the total, (items, ...) for items (items, ...), total (...)."""
    return np.asarray(items, dtype=float) / np.asarray(total, dtype=float)


def top_share(share: np.ndarray, k: int = 1) -> np.ndarray:
    """The summed share of the `k` largest items on each path (which items those are may
    differ from path to path)."""
    k = min(k, share.shape[0])
    return np.sort(share, axis=0)[-k:].sum(axis=0)


def herfindahl(share: np.ndarray) -> np.ndarray:
    """Sum of squared shares of the total over the items ("other", a remainder of many
    goods, is not one item and is left out): 1 if one item were all exports."""
    return np.sum(np.asarray(share, dtype=float) ** 2, axis=0)
