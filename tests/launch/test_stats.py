"""Bootstrap intervals: coverage of a known mean, pairing, and reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from dakota_rl.stats import bootstrap_mean_ci, paired_bootstrap_diff_ci


def test_mean_ci_brackets_the_mean_and_narrows_with_n():
    rng = np.random.default_rng(1)
    small, large = rng.random(50), rng.random(2000)
    m, lo, hi = bootstrap_mean_ci(small)
    assert lo < m < hi and m == pytest.approx(small.mean())
    _, lo2, hi2 = bootstrap_mean_ci(large)
    assert lo2 < 0.5 < hi2 and (hi2 - lo2) < (hi - lo) / 3
    assert bootstrap_mean_ci(small, seed=3) == bootstrap_mean_ci(small, seed=3)


def test_paired_diff_uses_the_pairing():
    rng = np.random.default_rng(2)
    task_difficulty = rng.random(200)
    a = task_difficulty
    b = task_difficulty + 0.05
    mean, lo, hi = paired_bootstrap_diff_ci(a, b)
    assert mean == pytest.approx(0.05) and lo == pytest.approx(0.05) and hi == pytest.approx(0.05)
    _, ulo, uhi = bootstrap_mean_ci(b)
    assert uhi - ulo > 0.05  # unpaired, the task spread hides the same shift
    with pytest.raises(ValueError):
        paired_bootstrap_diff_ci([1.0], [1.0, 2.0])
