"""Scoring (pure: no verifiers, torch or TRL).
Every trainer, the verifiers Task and the benchmark call `score`.

Modes:
- `partial` (default): 0 for a format failure, else 0.1 + 0.9 × (fraction of target letters counted exactly).
  The 0.1 floor for a well-formed answer keeps variance in GRPO groups (picoRL's final reward).
- `binary`: 1 only when every count is exact, else 0 (Atropos, picoRL's first reward).
In both modes a truncated completion (finish_reason "length") scores 0: a cut-off answer is never credited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from env_kit import Weights as ComponentWeights
from letter_counting.parser import parse_answer

RewardMode = Literal["partial", "binary"]
REWARD_MODES: tuple[str, ...] = ("partial", "binary")
WELL_FORMED_FLOOR = 0.1
MAX_COMPLETION_CHARS = 20_000
"""Longer completions are a format failure without parsing (far beyond any sampled answer;
bounds scoring time)."""


class Weights(ComponentWeights):
    """One component, the mode's total (the verifiers reward `correct_counts`, weight 1)."""

    sum_to_one = True

    total: float = 1.0


@dataclass(frozen=True)
class Scores:
    """The reward of one completion and what it is made of."""

    total: float
    exact: bool
    """Every target letter counted exactly (and not truncated)."""
    format_ok: bool
    truncated: bool
    fraction_correct: float
    """Share of target letters whose count is exact (0 on a format failure or truncation)."""
    tier: int
    answer: dict[str, int] | None
    error: str | None
    """Why the answer failed to parse, or "truncated"; `None` when it parsed."""

    def as_metrics(self) -> dict[str, float]:
        return {
            "exact": float(self.exact),
            "format_ok": float(self.format_ok),
            "truncated": float(self.truncated),
            "fraction_correct": self.fraction_correct,
            "tier": float(self.tier),
        }


def score(
    completion: str | None, task: Mapping, mode: RewardMode = "partial", *, truncated: bool = False
) -> Scores:
    """Score `completion` against `task` (a mapping with `counts` {letter: count} and `tier`).

    Never raises for any completion; an unknown `mode` is a caller error (ValueError)."""
    if mode not in REWARD_MODES:
        raise ValueError(f"unknown reward mode {mode!r}: use one of {', '.join(REWARD_MODES)}")
    gold: dict[str, int] = dict(task["counts"])
    tier = int(task.get("tier", 0))
    if completion is not None and len(completion) > MAX_COMPLETION_CHARS:
        error = "truncated" if truncated else f"completion longer than {MAX_COMPLETION_CHARS} characters"
        return Scores(0.0, False, False, truncated, 0.0, tier, None, error)
    parsed = parse_answer(completion, list(gold))
    if truncated or parsed.counts is None:
        return Scores(
            0.0,
            False,
            parsed.format_ok,
            truncated,
            0.0,
            tier,
            parsed.counts,
            "truncated" if truncated else parsed.error,
        )
    right = (
        sum(parsed.counts.get(c) == n for c, n in gold.items()) if parsed.counts.keys() == gold.keys() else 0
    )
    fraction = right / len(gold)
    exact = right == len(gold)
    total = float(exact) if mode == "binary" else WELL_FORMED_FLOOR + (1.0 - WELL_FORMED_FLOOR) * fraction
    return Scores(total, exact, True, False, fraction, tier, parsed.counts, None)
