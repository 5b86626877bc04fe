"""Letter counting: count given letters in an English word or a random string (verifiers v1 glue only).

The model answers `<answer>N</answer>` for one letter or `<answer>{"a": 2, "b": 0}</answer>` for several,
after optional `<think>…</think>` (rules: `parser.py`). The reward is `rewards.score`: `partial`
(0 format failure, 0.1 + 0.9 × fraction of exact counts otherwise) or `binary` (1 only if every count is
exact), set by `--env.taskset.task.reward-mode`; a truncated completion scores 0. Metrics: exact,
format_ok, truncated, fraction_correct, tier.

`split = "train"` draws endless seeded tasks (a fixed tier, a fixed mixture, or the adaptive curriculum
fed by the trainer through `taskset.curriculum.update(rewards)`); `split = "eval"` loads the frozen eval
sets (200 tasks per tier) that train never overlaps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Literal

import verifiers.v1 as vf
from pydantic import Field, model_validator

from env_kit.single_turn import ChatEnv, RecordData, SingleTurnTask
from letter_counting.curriculum import AdaptiveCurriculum, FixedMixture
from letter_counting.generate import SYSTEM_PROMPT, TIERS, iter_train_tasks, load_eval_tasks
from letter_counting.rewards import RewardMode, Scores, score


class LetterCountingData(RecordData):
    split: str
    """"train" or "eval"."""
    tier: int
    """Difficulty tier, 1-10."""
    text: str
    """The word or string to count in."""
    letters: list[str]
    """The target letters, sorted."""
    counts: dict[str, int]
    """Gold count of each target letter."""


class LetterCountingTaskConfig(vf.TaskConfig):
    reward_mode: RewardMode = "partial"
    """"partial": 0.1 + 0.9 × fraction of exact counts for a well-formed answer; "binary": 1 iff all exact."""


class LetterCountingTask(SingleTurnTask[LetterCountingData, LetterCountingTaskConfig]):
    def score_reply(self, reply: str, truncated: bool) -> Scores:
        return score(reply, self.data, self.config.reward_mode, truncated=truncated)

    @vf.reward(weight=1.0)
    async def correct_counts(self, trace: vf.Trace) -> float:
        return self.scores(trace).total

    @vf.metric
    async def counting(self, trace: vf.Trace) -> Mapping[str, float]:
        return self.scores(trace).as_metrics()


class LetterCountingConfig(vf.TasksetConfig):
    task: LetterCountingTaskConfig = LetterCountingTaskConfig()
    split: Literal["train", "eval"] = "train"
    """"train": endless seeded tasks; "eval": the frozen eval sets."""
    seed: int = 0
    """Train seed: the same seed gives the same tasks (with the curriculum: given the same rewards)."""
    num_tasks: int | None = Field(None, ge=1)
    """Stop train after this many tasks; None = endless."""
    tier: int = Field(3, ge=1, le=10)
    """Train tier when neither `mixture` nor `curriculum` is set (picoRL's default 3); curriculum start
    tier."""
    mixture: dict[int, float] | None = None
    """Train tier weights, e.g. {1: 1, 3: 2, 6: 1}; each task's tier is drawn from them (seeded)."""
    curriculum: bool = False
    """Adaptive tier (Atropos): up above `curriculum_up`, down below `curriculum_down` success over the
    window. Only moves when the trainer reports rewards (`taskset.curriculum.update`); see the README."""
    curriculum_window: int = Field(150, ge=1)
    """Groups in the success window."""
    curriculum_up: float = Field(0.8, ge=0, le=1)
    curriculum_down: float = Field(0.2, ge=0, le=1)
    eval_tiers: list[int] = Field(default_factory=lambda: sorted(TIERS))
    """Which frozen eval sets `split = "eval"` loads."""

    @model_validator(mode="after")
    def _one_tier_policy(self) -> LetterCountingConfig:
        if self.mixture is not None and self.curriculum:
            raise ValueError("set either mixture or curriculum, not both")
        if self.mixture is not None and any(t not in TIERS for t in self.mixture):
            raise ValueError(f"mixture tiers must be 1-10, got {sorted(self.mixture)}")
        if any(t not in TIERS for t in self.eval_tiers):
            raise ValueError(f"eval_tiers must be 1-10, got {self.eval_tiers}")
        return self


class LetterCountingTaskset(vf.Taskset[LetterCountingTask, LetterCountingConfig]):
    def __init__(self, config: LetterCountingConfig) -> None:
        super().__init__(config)
        self.curriculum: AdaptiveCurriculum | None = (
            AdaptiveCurriculum(
                config.tier, config.curriculum_window, config.curriculum_up, config.curriculum_down
            )
            if config.curriculum
            else None
        )
        """Shared by every view of this taskset; the trainer calls `update(rewards_of_a_group)` on it."""
        self.mixture = FixedMixture(config.mixture, config.seed) if config.mixture is not None else None

    @property
    def INFINITE(self) -> bool:
        """The framework's endless-taskset flag: train without `num_tasks` never ends."""
        return self.config.split == "train" and self.config.num_tasks is None

    def tier_for(self, index: int) -> int:
        """The tier of train task `index`: the curriculum's current tier, a mixture draw, or the fixed
        tier."""
        policy = self.curriculum or self.mixture
        return policy.tier_for(index) if policy is not None else self.config.tier

    def load(self) -> Iterator[LetterCountingTask]:
        if self.config.split == "eval":
            records = iter(load_eval_tasks(self.config.eval_tiers))
        else:
            records = iter_train_tasks(self.config.seed, self.tier_for)
        for i, record in enumerate(records):
            if self.config.split == "train" and i == self.config.num_tasks:
                return
            data = LetterCountingData.from_record(record, i, system_prompt=SYSTEM_PROMPT)
            yield LetterCountingTask(data, self.config.task)


class LetterCountingEnv(ChatEnv):
    """One agent answers each task once (the `null` harness, a subprocess runtime)."""
