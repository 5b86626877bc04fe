"""letter_counting's adaptive curriculum driven by the local trainer's group rewards.

The train dataset is lazy: row `i` becomes `generate.train_task(seed, i, tier)` at the curriculum's current
tier when the trainer fetches it, and every scored batch reports its groups (the completions of one prompt) to
`AdaptiveCurriculum.update`. The tier is logged as `curriculum/tier`.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from dakota_rl.backends.local.heldout import prompt_messages
from dakota_rl.backends.local.rewards import RewardBank
from dakota_rl.backends.local.settings import LocalTrainSettings
from dakota_rl.config import ConfigError
from dakota_rl.envs import EnvSpec


def curriculum_dataset(settings: LocalTrainSettings, env: EnvSpec, bank: RewardBank) -> Any:
    """A datasets.Dataset whose rows are generated at the current tier; registers the reward observer."""
    from datasets import Dataset

    if env.id != "letter_counting":
        raise ConfigError(f"[local.curriculum] drives letter_counting's tiers; env {env.id!r} has none")
    cfg = settings.local.curriculum
    generate = importlib.import_module("letter_counting.generate")
    curriculum_mod = importlib.import_module("letter_counting.curriculum")
    try:
        curriculum = curriculum_mod.AdaptiveCurriculum(
            start_tier=cfg.start_tier, window=cfg.window, up=cfg.up, down=cfg.down
        )
    except ValueError as err:
        raise ConfigError(f"[local.curriculum]: {err}") from None
    seed = int(settings.env_options.get("seed", 0))
    count = int(settings.env_options.get("num_tasks") or 2000)

    def materialise(batch: dict[str, list[int]]) -> dict[str, list[Any]]:
        tasks = [generate.train_task(seed, i, curriculum.current_tier) for i in batch["index"]]
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
