"""Which tier the next train task comes from (pure): a fixed tier, a fixed mixture, or an adaptive curriculum.

`AdaptiveCurriculum` follows Atropos: keep the success rates of the most recent `window` groups
(a group = the rollouts of one task); when the window is full, move up one tier if their mean is above
`up`, down one if below `down`, then start a fresh window. Success = a rollout's reward is 1 (every
count exact, in either reward mode). The trainer reports each scored group with `update(rewards)`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping

MIN_TIER, MAX_TIER = 1, 10


def _check_tier(tier: int) -> int:
    if not MIN_TIER <= tier <= MAX_TIER:
        raise ValueError(f"tier {tier} is out of range: tiers are {MIN_TIER}-{MAX_TIER}")
    return tier


class AdaptiveCurriculum:
    """Moves the train tier from the recent success rate (Atropos: window 150, up > 0.8, down < 0.2, start
    3)."""

    def __init__(
        self,
        start_tier: int = 3,
        window: int = 150,
        up: float = 0.8,
        down: float = 0.2,
        min_tier: int = MIN_TIER,
        max_tier: int = MAX_TIER,
    ) -> None:
        if window < 1 or not 0.0 <= down < up <= 1.0 or not MIN_TIER <= min_tier <= max_tier <= MAX_TIER:
            raise ValueError(
                "curriculum needs window >= 1, 0 <= down < up <= 1 and 1 <= min_tier <= max_tier <= 10"
            )
        self.current_tier = _check_tier(start_tier)
        self.window = window
        self.up, self.down = up, down
        self.min_tier, self.max_tier = min_tier, max_tier
        self.recent: deque[float] = deque(maxlen=window)

    def update(self, rewards_of_a_group: Iterable[float]) -> int:
        """Record one group's rewards; return the tier to draw from next."""
        rewards = list(rewards_of_a_group)
        if not rewards:
            return self.current_tier
        self.recent.append(sum(r >= 1.0 for r in rewards) / len(rewards))
        if len(self.recent) == self.window:
            success = sum(self.recent) / self.window
            if success > self.up and self.current_tier < self.max_tier:
                self._move(+1)
            elif success < self.down and self.current_tier > self.min_tier:
                self._move(-1)
        return self.current_tier

    def _move(self, step: int) -> None:
        self.current_tier += step
        self.recent.clear()

    def tier_for(self, index: int) -> int:
        """The tier of train task `index` (the current one, whatever the index)."""
        return self.current_tier


class FixedMixture:
    """Draws each train task's tier from fixed weights, seeded per task index (reproducible)."""

    def __init__(self, weights: Mapping[int, float], seed: int = 0) -> None:
        tiers = sorted(weights)
        for tier in tiers:
            _check_tier(tier)
        if any(weights[t] < 0 for t in tiers) or sum(weights[t] for t in tiers) <= 0:
            raise ValueError("mixture weights must be >= 0 with a positive sum")
        self.tiers = tiers
        self.weights = [float(weights[t]) for t in tiers]
        self.seed = seed

    def tier_for(self, index: int) -> int:
        return random.Random(f"mixture/{self.seed}/{index}").choices(self.tiers, self.weights)[0]
