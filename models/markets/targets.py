"""Questions about shares: "china<0.18" (China's share below 18%), "asean+eu>0.3333"
(ASEAN and the EU together above a third). Parsed once, answered from paths."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exportcast.models.limits import MAX_TARGETS
from exportcast.models.markets.regions import REGION_IDS

_TARGET = re.compile(r"([a-z_]+(?:\+[a-z_]+)*)\s*([<>])\s*([0-9]*\.?[0-9]+)")


@dataclass(frozen=True)
class ShareTarget:
    regions: tuple[str, ...]
    above: bool
    threshold: float  # a share, 0..1

    @classmethod
    def parse(cls, text: str) -> ShareTarget:
        found = _TARGET.fullmatch(text.strip())
        if not found:
            raise ValueError(
                f"targets: {text.strip()[:60]!r} is not <regions><'<' or '>'><share>, "
                "e.g. china<0.18 or asean+eu>0.3333"
            )
        regions = tuple(found.group(1).split("+"))
        unknown = [r for r in regions if r not in REGION_IDS]
        if unknown:
            raise ValueError(
                f"targets: unknown region {unknown[0]!r} (regions: {', '.join(REGION_IDS)})"
            )
        if len(set(regions)) != len(regions):
            raise ValueError(f"targets: a region is named twice in {text.strip()!r}")
        threshold = float(found.group(3))
        if not 0 < threshold < 1:
            raise ValueError(f"targets: share {threshold:g} is not between 0 and 1")
        return cls(regions, found.group(2) == ">", threshold)

    def __str__(self) -> str:
        return f"{'+'.join(self.regions)}{'>' if self.above else '<'}{self.threshold:g}"

    def probability(self, shares: np.ndarray) -> float:
        """P over the paths, shares (n_paths, regions) in `REGION_IDS` order."""
        columns = [REGION_IDS.index(r) for r in self.regions]
        summed = shares[:, columns].sum(axis=1)
        hit = summed > self.threshold if self.above else summed < self.threshold
        return float(np.mean(hit))


def parse_targets(texts: Sequence[str]) -> tuple[ShareTarget, ...]:
    """Comma-separated or repeated targets, each checked; at most MAX_TARGETS."""
    parts = [p for text in texts for p in text.split(",") if p.strip()]
    if len(parts) > MAX_TARGETS:
        raise ValueError(f"targets: {len(parts)} given, at most {MAX_TARGETS}")
    parsed = tuple(ShareTarget.parse(p) for p in parts)
    return tuple(dict.fromkeys(parsed))  # repeats asked once
