"""An environment's adaptive curriculum, driven by the local trainer's group rewards (`[local.curriculum]`).

The curriculum is the environment's own, as its `EnvSpec` exposes it (`curriculum` with `update(rewards)`,
`train_task(index)` drawing at its current level): the env is loaded once more with its taskset's curriculum
options set from `[local.curriculum]`, so no backend names an environment. letter_counting is the env with
one today. The train dataset is lazy: row `i` becomes `train_task(i)` when the trainer fetches it, and every
scored batch reports its groups (the completions of one prompt) to `curriculum.update`. The level is logged as
`curriculum/tier`.
"""

from __future__ import annotations

import json
from typing import Any

from dakota_rl.backends.local.heldout import prompt_messages
from dakota_rl.backends.local.rewards import RewardBank
from dakota_rl.backends.local.settings import LocalTrainSettings
from dakota_rl.config import ConfigError
from dakota_rl.envs import EnvSpec, load_env
from dakota_rl.errors import UserError

TASKSET_OPTIONS = {
    "start_tier": "tier",
    "window": "curriculum_window",
    "up": "curriculum_up",
    "down": "curriculum_down",
}
"""`[local.curriculum]` key → the taskset option it sets (with `curriculum = true`)."""
DEFAULT_TRAIN_ROWS = 2000
"""Rows of the lazy train dataset when the taskset sets no `num_tasks`."""


def curriculum_env(settings: LocalTrainSettings, env: EnvSpec) -> EnvSpec:
    """`env` with its taskset's curriculum on, configured by `[local.curriculum]`; ConfigError for an env
    whose taskset has no curriculum or for settings it refuses."""
    fields = type(env.config).model_fields if env.config is not None else {}
    if "curriculum" not in fields:
        raise ConfigError(f"[local.curriculum] drives a taskset's curriculum; env {env.id!r} has none")
    cfg = settings.local.curriculum.model_dump()
    options = {**settings.env_options, "curriculum": True}
    options.update({option: cfg[key] for key, option in TASKSET_OPTIONS.items()})
    try:
        driven = load_env(env.id, options, where="local.curriculum")
    except UserError:
        raise
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
