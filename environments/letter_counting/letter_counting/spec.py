"""What a trainer outside verifiers needs from this environment, built from the taskset's own config.

`env_spec(options)` validates `options` as `LetterCountingConfig` (the `[…env.taskset]` table vf-eval and
prime-rl load, minus `id`), so `tier`, `mixture`, `curriculum`, `seed`, `num_tasks`, `eval_tiers` and
`task.reward_mode` mean the same in every backend and an unknown option is refused with its path.
Train tasks take their tier from the taskset (`tier_for`: fixed tier, mixture draw or the curriculum's tier);
`curriculum` is the taskset's `AdaptiveCurriculum` (None unless enabled): a trainer reports each scored group
with `curriculum.update(rewards)` and draws later tasks with `train_task(index)`; `with_curriculum(settings)`
is this env with the curriculum on, started and bounded by a trainer's settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from env_kit import EnvSpec
from env_kit.spec import eval_options, system_prompt
from letter_counting.generate import SYSTEM_PROMPT, load_eval_tasks, train_task
from letter_counting.rewards import Scores, Weights, score
from letter_counting.taskset import LetterCountingConfig, LetterCountingTaskset

ENV_ID = "letter_counting"
MATERIALISED_TRAIN_TASKS = 2000
"""Train tasks `load_tasks("train")` returns when `num_tasks` is None (the taskset itself is endless)."""
EVAL_KEYS = ("eval_tiers", "task")
WEIGHTS = Weights
"""The components this env scores (one: the mode's total)."""
CURRICULUM_OPTIONS = {
    "start_tier": "tier",
    "window": "curriculum_window",
    "up": "curriculum_up",
    "down": "curriculum_down",
}
"""A trainer's curriculum settings (`EnvSpec.with_curriculum`) → the taskset options they set."""


def gold_completion(task: Mapping[str, Any]) -> str:
    """`<answer>N</answer>` for one letter, the JSON object of counts for several."""
    counts = task["counts"]
    body = str(next(iter(counts.values()))) if len(counts) == 1 else json.dumps(counts)
    return f"<answer>{body}</answer>"


def env_spec(options: Mapping[str, Any] | None = None) -> EnvSpec:
    """The environment as the launcher sees it (pydantic ValidationError on bad options)."""
    config = LetterCountingConfig.model_validate({**(options or {}), "id": ENV_ID})
    taskset = LetterCountingTaskset(config)

    def train(index: int) -> dict[str, Any]:
        return train_task(config.seed, index, taskset.tier_for(index))

    def load_tasks(split: str) -> list[dict[str, Any]]:
        if split in ("heldout", "eval"):
            return load_eval_tasks(config.eval_tiers)
        return [train(i) for i in range(config.num_tasks or MATERIALISED_TRAIN_TASKS)]

    def scorer(completion: str | None, task: Mapping[str, Any], truncated: bool) -> Scores:
        return score(completion, task, mode=config.task.reward_mode, truncated=truncated)

    def with_curriculum(settings: Mapping[str, Any]) -> EnvSpec:
        driven = {option: settings[key] for key, option in CURRICULUM_OPTIONS.items()}
        return env_spec({**(options or {}), **driven, "curriculum": True})

    return EnvSpec(
        id=ENV_ID,
        config=config,
        system_prompt=system_prompt(config.system_prompt, SYSTEM_PROMPT),
        components=Weights().components(),
        score=scorer,
        load_tasks=load_tasks,
        gold_completion=gold_completion,
        group_keys=("tier",),
        heldout_split="eval",
        eval_options=eval_options(config.model_dump(exclude_unset=True), EVAL_KEYS),
        curriculum=taskset.curriculum,
        train_task=train,
        with_curriculum=with_curriculum,
    )
