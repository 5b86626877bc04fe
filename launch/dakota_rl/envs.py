"""The environments the local backend and the eval report know: tasks, system prompt and the env's own scorer.

Every reward comes from the environment's pure `rewards.score` — the same function its verifiers Task calls —
so a TRL run, `vf-eval` and the report agree on every number.
"""

from __future__ import annotations

import importlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dakota_rl.config import ConfigError


@dataclass(frozen=True)
class EnvSpec:
    """One environment as seen by the trainers and the report."""

    id: str
    system_prompt: str
    components: dict[str, float]
    """Reward component name → weight; the total is Σ weight × component."""
    score: Callable[[str | None, Mapping[str, Any], bool], Any]
    """(completion, task, truncated) → the env's Scores (`.total`, `.exact`, `.format_ok`, `.truncated`, …)."""
    load_tasks: Callable[[str], list[dict[str, Any]]]
    """split ("train" | "heldout") → task records."""
    gold_completion: Callable[[Mapping[str, Any]], str]
    """A completion in the env's answer format that carries the gold answer (SFT warm-up)."""
    group_keys: tuple[str, ...]
    """Task fields the report breaks results down by."""
    heldout_split: str
    """The split name the env's taskset uses for held-out evaluation."""
    eval_options: dict[str, Any]
    """Taskset options that also apply to the held-out eval (`--env.taskset.<key>` for vf-eval)."""

    def component_values(self, scores: Any) -> dict[str, float]:
        """Each component's unweighted value from a Scores object."""
        return {name: float(getattr(scores, name)) for name in self.components}


def canonical_env_id(env_id: str) -> str:
    return env_id.strip().replace("-", "_")


def _dakota(options: Mapping[str, Any]) -> EnvSpec:
    rewards = importlib.import_module("dakota_grammar_translation.rewards")
    tasks_mod = importlib.import_module("dakota_grammar_translation.tasks")
    task_opts = options.get("task") or {}
    weights = rewards.Weights(**(task_opts.get("weights") or {}))
    components = {"character": weights.character, "morphology": weights.morphology, "semantic": weights.semantic}
    if options.get("system_prompt"):
        system_prompt = Path(options["system_prompt"]).read_text(encoding="utf-8")
    else:
        system_prompt = importlib.import_module("dakota_grammar_translation.taskset").SYSTEM_PROMPT

    def score(completion: str | None, task: Mapping[str, Any], truncated: bool) -> Any:
        return rewards.score(completion, task, weights, truncated=truncated)

    def load(split: str) -> list[dict[str, Any]]:
        if options.get("data_file") and split == "train":
            tasks = [dict(t) for t in tasks_mod.read_tasks(options["data_file"])]
        else:
            tasks = [dict(t) for t in tasks_mod.load_tasks(split)]
        return _filter(tasks, options, {"families": "family", "difficulties": "difficulty"})

    return EnvSpec(
        id="dakota_grammar_translation",
        system_prompt=system_prompt,
        components=components,
        score=score,
        load_tasks=load,
        gold_completion=lambda task: f"<answer>{task['answer']}</answer>",
        group_keys=("family", "difficulty"),
        heldout_split="heldout",
        eval_options={k: options[k] for k in ("families", "difficulties", "task") if options.get(k)},
    )


def _letter_counting(options: Mapping[str, Any]) -> EnvSpec:
    rewards = importlib.import_module("letter_counting.rewards")
    generate = importlib.import_module("letter_counting.generate")
    task_opts = options.get("task", {}) if isinstance(options.get("task"), Mapping) else {}
    mode = task_opts.get("reward_mode", "partial")

    def score(completion: str | None, task: Mapping[str, Any], truncated: bool) -> Any:
        return rewards.score(completion, task, mode=mode, truncated=truncated)

    def load(split: str) -> list[dict[str, Any]]:
        if split in ("heldout", "eval"):
            return generate.load_eval_tasks(options.get("eval_tiers"))
        seed, tier = int(options.get("seed", 0)), int(options.get("tier", 3))
        count = int(options.get("num_tasks") or 2000)
        return [generate.train_task(seed, i, tier) for i in range(count)]

    def gold(task: Mapping[str, Any]) -> str:
        counts = task["counts"]
        body = str(next(iter(counts.values()))) if len(counts) == 1 else json.dumps(counts)
        return f"<answer>{body}</answer>"

    return EnvSpec(
        id="letter_counting",
        system_prompt=options.get("system_prompt") or generate.SYSTEM_PROMPT,
        components={"total": 1.0},
        score=score,
        load_tasks=load,
        gold_completion=gold,
        group_keys=("tier",),
        heldout_split="eval",
        eval_options={k: options[k] for k in ("eval_tiers", "task") if options.get(k)},
    )


ENVS: dict[str, Callable[[Mapping[str, Any]], EnvSpec]] = {
    "dakota_grammar_translation": _dakota,
    "letter_counting": _letter_counting,
    "parallel_translation": lambda options: importlib.import_module("parallel_translation.spec").env_spec(options),
}


def load_env(env_id: str, options: Mapping[str, Any] | None = None) -> EnvSpec:
    """The EnvSpec for `env_id` with taskset `options`; ConfigError for an unknown or uninstalled env."""
    key = canonical_env_id(env_id)
    if key not in ENVS:
        raise ConfigError(f"unknown env id {env_id!r}: the local backend knows {', '.join(sorted(ENVS))}")
    try:
        return ENVS[key](dict(options or {}))
    except ModuleNotFoundError as err:
        raise ConfigError(f"environment {key!r} is not installed ({err}); run launch/setup.sh") from None


def _filter(tasks: list[dict[str, Any]], options: Mapping[str, Any], fields: dict[str, str]) -> list[dict]:
    for option, field in fields.items():
        wanted = options.get(option)
        if wanted:
            tasks = [t for t in tasks if t.get(field) in set(wanted)]
    if options.get("shuffle_seed") is not None:
        random.Random(options["shuffle_seed"]).shuffle(tasks)
    if options.get("limit"):
        tasks = tasks[: int(options["limit"])]
    return tasks
