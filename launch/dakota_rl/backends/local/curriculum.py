"""An environment's adaptive curriculum, driven by the local trainer's group rewards (`[local.curriculum]`).

The curriculum is the environment's own, as its `EnvSpec` exposes it: `with_curriculum(settings)` is the env
with its curriculum on, set from `[local.curriculum]` (the env maps the settings to its own taskset options),
whose `curriculum.update(rewards)` and `train_task(index)` drive training; no backend names an environment or
its options. letter_counting is the env with one today. The train dataset is lazy: row `i` becomes
`train_task(i)` when the trainer fetches it, and every scored batch reports its groups (the completions of one
prompt) to `curriculum.update`. The level is logged as `curriculum/tier`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from dakota_rl.backends.local.heldout import prompt_messages
from dakota_rl.backends.local.rewards import RewardBank
from dakota_rl.backends.local.settings import LocalTrainSettings
from dakota_rl.config import ConfigError, validation_error
from dakota_rl.envs import EnvSpec

DEFAULT_TRAIN_ROWS = 2000
"""Rows of the lazy train dataset when the taskset sets no `num_tasks`."""


def curriculum_env(settings: LocalTrainSettings, env: EnvSpec) -> EnvSpec:
    """`env` with its curriculum on, configured by `[local.curriculum]`; ConfigError for an env without one
    or for settings its taskset refuses."""
    if env.with_curriculum is None:
        raise ConfigError(f"[local.curriculum] drives a taskset's curriculum; env {env.id!r} has none")
    try:
        driven = env.with_curriculum(settings.local.curriculum.model_dump())
    except ValidationError as err:
        raise validation_error(err, prefix="local.curriculum") from None
    except ValueError as err:
        raise ConfigError(f"[local.curriculum]: {err}") from None
    if driven.curriculum is None or driven.train_task is None:
        raise ConfigError(f"[local.curriculum] drives a taskset's curriculum; env {env.id!r} has none")
    return driven


def curriculum_dataset(settings: LocalTrainSettings, env: EnvSpec, bank: RewardBank) -> Any:
    """A datasets.Dataset whose rows are drawn at the curriculum's current level; registers the reward
    observer."""
    from datasets import Dataset

    driven = curriculum_env(settings, env)
    curriculum, train_task = driven.curriculum, driven.train_task
    count = int(settings.env_options.get("num_tasks") or DEFAULT_TRAIN_ROWS)

    def materialise(batch: dict[str, list[int]]) -> dict[str, list[Any]]:
        tasks = [train_task(i) for i in batch["index"]]
        return {
            "prompt": [prompt_messages(env, t) for t in tasks],
            "task_json": [json.dumps(t, ensure_ascii=False) for t in tasks],
        }

    def observe(task_json: list[str], totals: list[float]) -> dict[str, float]:
        groups: dict[str, list[float]] = {}
        for task, total in zip(task_json, totals, strict=True):
            groups.setdefault(task, []).append(total)
        for rewards in groups.values():
            curriculum.update(rewards)
        return {"curriculum_tier": float(curriculum.current_tier)}

    bank.observers.append(observe)
    dataset = Dataset.from_dict({"index": list(range(count))})
    dataset.set_transform(materialise)
    return dataset
