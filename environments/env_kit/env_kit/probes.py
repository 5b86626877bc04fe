"""A hack-probe family: a way of answering and the range its total reward must stay in. Pure."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Task = Mapping[str, Any]
Builder = Callable[[Any, random.Random, Sequence[Any]], str | None]
"""(task, seeded rng, all tasks) → the probe's completion, or None when the task cannot carry this probe."""


@dataclass(frozen=True)
class ProbeFamily:
    """A way of answering, and the range its totals must stay in."""

    name: str
    kind: str
    """hack | near_miss | partial | control: what the family stands for in the tables."""
    low: float
    high: float
    description: str
    build: Builder
    min_mean: float = 0.0
    """A floor on the family's mean total (near misses must keep a dense signal)."""
    on_mean: bool = False
    """Apply `high` to the family's mean, not to every total (answers sometimes legitimately close)."""

    def in_range(self, total: float) -> bool:
        """`low <= total <= high`, up to rounding."""
        return self.low - 1e-9 <= total <= self.high + 1e-9
