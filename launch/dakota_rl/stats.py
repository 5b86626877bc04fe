"""Bootstrap confidence intervals for held-out results (pure: standard library only).

Percentile bootstrap: resample the per-task values with replacement `n_boot` times, take the mean of each
resample, and report the (1 - level) / 2 and (1 + level) / 2 quantiles. Seeded, so a report is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of already sorted values."""
    pos = q * (len(sorted_values) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _check(level: float, n_boot: int) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")


def _interval(means: list[float], level: float) -> tuple[float, float]:
    means.sort()
    return _quantile(means, (1 - level) / 2), _quantile(means, (1 + level) / 2)


def bootstrap_mean_ci(
    values: Sequence[float], *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """(mean, low, high): the mean of `values` and its percentile-bootstrap interval."""
    _check(level, n_boot)
    data = [float(v) for v in values]
    if not data:
        raise ValueError("bootstrap_mean_ci needs at least one value")
    n, rng = len(data), random.Random(seed)
    means = [math.fsum(rng.choices(data, k=n)) / n for _ in range(n_boot)]
    low, high = _interval(means, level)
    return math.fsum(data) / n, low, high


def paired_bootstrap_diff_ci(
    a: Sequence[float], b: Sequence[float], *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """(mean of b - a, low, high) over paired values (the same tasks, in the same order)."""
    if len(a) != len(b):
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    return bootstrap_mean_ci(
        [float(y) - float(x) for x, y in zip(a, b, strict=True)], n_boot=n_boot, seed=seed, level=level
    )
