"""What a hierarchy is: a total, items of one classification, and "other" (the rest), so
that the bottom nodes (items and other) add up to the total month by month."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from exportcast.models.hierarchy.reconcile import two_level
from exportcast.models.series import MonthlySeries, format_month

TOTAL, OTHER = "total", "other"
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


_CLASSIFIED = re.compile(r"([a-z0-9]+)(?:_[a-z0-9]+)?:")


def classification(item: str) -> str:
    """The classification an item belongs to, from the source's names: the lower-case code
    before ":" ("kcs10:ships" -> "kcs10", "hs4_2710:petroleum_oils" -> "hs4"); "" for a
    name without one ("Exports: ships")."""
    found = _CLASSIFIED.match(item)
    return found.group(1) if found else ""


def node_name(item: str) -> str:
    """An item's node name: its name without the classification ("kcs10:ships" -> "ships")."""
    return item.split(":", 1)[1] if ":" in item else item


@dataclass(frozen=True)
class Hierarchy:
    """`items` of one `classification`, under `total`; "other" is the total less the items.

    Node order everywhere (paths, matrices, responses) is total, items, other."""

    id: str
    total_series: str
    classification: str
    items: tuple[str, ...]  # node names, e.g. ("semiconductors", "ships")

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("a hierarchy needs at least one item")
        bad = [i for i in self.items if not _NAME.fullmatch(i) or i in (TOTAL, OTHER)]
        if bad:
            raise ValueError(
                f"item names must be lower-case letters, digits, '_', '-' or '.' and not "
                f"{TOTAL!r} or {OTHER!r}: {', '.join(map(repr, bad))}"
            )
        if len(set(self.items)) != len(self.items):
            raise ValueError("items repeated")

    @property
    def bottom(self) -> tuple[str, ...]:
        return (*self.items, OTHER)

    @property
    def nodes(self) -> tuple[str, ...]:
        return (TOTAL, *self.bottom)

    def summing_matrix(self) -> np.ndarray:
        """S, (nodes, bottom): each node as a sum of bottom nodes."""
        return two_level(len(self.bottom))

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "total_series": self.total_series,
            "classification": self.classification,
            "items": list(self.items),
        }


def one_classification(items: Sequence[str]) -> str:
    """The one classification `items` share; ValueError naming them if they mix several
    (the source's classifications overlap, so adding across them counts exports twice)."""
    found = sorted({classification(i) for i in items})
    if len(found) != 1:
        raise ValueError(
            "items of different classifications cannot be added together (they overlap): "
            + ", ".join(f"{c or '(none)'}" for c in found)
        )
    return found[0]


def node_series(
    hierarchy: Hierarchy, total: MonthlySeries, items: Mapping[str, MonthlySeries]
) -> dict[str, MonthlySeries]:
    """Every node's series through the last month that the total and all items have,
    "other" being the total less the items over the months they share (the total keeps
    its whole history: its own forecast should see it); ValueError where the items reach
    the total."""
    missing = [i for i in hierarchy.items if i not in items]
    if missing:
        raise ValueError(f"no series for items: {', '.join(missing)}")
    parts = [items[i] for i in hierarchy.items]
    start = max(s.start for s in [total, *parts])
    end = min(s.end for s in [total, *parts])
    if end - start + 1 < 24:
        raise ValueError(
            f"the total and its items share {max(end - start + 1, 0)} months; 24 are needed"
        )

    def window(s: MonthlySeries) -> np.ndarray:
        return s.values[start - s.start : end - s.start + 1]

    summed = np.sum([window(p) for p in parts], axis=0)
    other = window(total) - summed
    short = np.flatnonzero(other <= 0)
    if len(short):
        months = ", ".join(format_month(start + int(i)) for i in short[:6])
        raise ValueError(f"the items add up to the total or more in {months}")
    unit = total.unit
    out = {TOTAL: total.through(end)}
    for name, part in zip(hierarchy.items, parts, strict=True):
        out[name] = MonthlySeries(part.id, unit, start, window(part), part.name or name)
    out[OTHER] = MonthlySeries(f"{hierarchy.id}.{OTHER}", unit, start, other, "other")
    return out
