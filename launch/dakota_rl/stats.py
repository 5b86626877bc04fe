"""Bootstrap confidence intervals for held-out scores (pure: numpy only).

`bootstrap_mean_ci` resamples tasks with replacement; `paired_bootstrap_diff_ci` resamples the same task
indices for both checkpoints, so the interval of the difference keeps the pairing (each task is scored twice).
Intervals are percentile intervals of `n_boot` resampled means, reproducible with `seed`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _percentile_ci(values: np.ndarray, n_boot: int, seed: int, level: float) -> tuple[float, float, float]:
    if values.size == 0:
        raise ValueError("bootstrap needs at least one value")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(n_boot, values.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(values.mean()), float(low), float(high)


def bootstrap_mean_ci(
    values: Sequence[float], *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """(mean, low, high): the mean of `values` and its percentile bootstrap interval."""
    return _percentile_ci(np.asarray(values, dtype=float), n_boot, seed, level)


def paired_bootstrap_diff_ci(
    a: Sequence[float], b: Sequence[float], *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """(mean of b − a, low, high) over paired values (`a[i]` and `b[i]` score the same task)."""
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"paired values need equal lengths, got {a_arr.size} and {b_arr.size}")
    return _percentile_ci(b_arr - a_arr, n_boot, seed, level)
