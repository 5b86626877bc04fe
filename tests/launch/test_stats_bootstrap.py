"""`dakota_rl.stats`: percentile-bootstrap intervals for a mean and for a paired difference."""

from __future__ import annotations

import math
import random

import pytest

from dakota_rl.stats import bootstrap_mean_ci, paired_bootstrap_diff_ci


def test_constant_values_have_a_zero_width_interval():
    assert bootstrap_mean_ci([0.25] * 7) == (0.25, 0.25, 0.25)


def test_mean_is_the_sample_mean_and_the_interval_contains_it():
    values = [0.0, 0.1, 0.5, 0.9, 1.0, 0.3]
    mean, low, high = bootstrap_mean_ci(values)
    assert mean == pytest.approx(sum(values) / len(values))
    assert low < mean < high
    assert low >= 0.0 and high <= 1.0


def test_interval_matches_the_normal_approximation_for_many_binary_values():
    rng = random.Random(1)
    values = [float(rng.random() < 0.3) for _ in range(400)]
    mean, low, high = bootstrap_mean_ci(values)
    half = 1.96 * math.sqrt(mean * (1 - mean) / len(values))
    assert (high - low) / 2 == pytest.approx(half, rel=0.15)
    narrower = bootstrap_mean_ci(values, level=0.5)
    assert narrower[2] - narrower[1] < (high - low) / 2


def test_same_seed_same_interval_and_another_seed_differs():
    rng = random.Random(2)
    values = [rng.random() for _ in range(50)]
    assert bootstrap_mean_ci(values, seed=3) == bootstrap_mean_ci(values, seed=3)
    assert bootstrap_mean_ci(values, seed=3) != bootstrap_mean_ci(values, seed=4)


def test_paired_difference_of_a_constant_shift_is_exact():
    a = [0.1, 0.4, 0.2, 0.9]
    mean, low, high = paired_bootstrap_diff_ci(a, [x + 0.1 for x in a])
    assert (mean, low, high) == pytest.approx((0.1, 0.1, 0.1))


def test_pairing_removes_the_spread_between_tasks():
    rng = random.Random(5)
    a = [rng.random() for _ in range(200)]
    b = [x + 0.05 + rng.gauss(0, 0.02) for x in a]
    _, low, high = paired_bootstrap_diff_ci(a, b)
    _, a_low, a_high = bootstrap_mean_ci(a)
    assert 0.0 < low < 0.05 < high
    assert high - low < (a_high - a_low) / 4


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bootstrap_mean_ci([]), "at least one value"),
        (lambda: bootstrap_mean_ci([1.0], level=1.0), "level must be in"),
        (lambda: bootstrap_mean_ci([1.0], n_boot=0), "n_boot must be"),
        (lambda: paired_bootstrap_diff_ci([1.0], [1.0, 2.0]), "equal lengths"),
    ],
)
def test_bad_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
