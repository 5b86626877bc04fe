"""What a trainer outside verifiers needs from this environment, built from the taskset's own config.

`env_spec(options)` validates `options` as `DakotaTasksetConfig` (the `[…env.taskset]` table vf-eval and
prime-rl load, minus `id`), so every option means the same in every backend and an unknown one is refused
with its path. Tasks are `taskset.task_records` (the selection `DakotaTaskset.load()` wraps): read once from
the JSONL and scored as they are. The scorer is the one the verifiers Task calls
(`rewards.score_in_orthography` with the configured weights, `task.orthography`, `task.reward_version` and
`task.format_gate`). The `exact_match` component is listed only when its weight is above 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dakota_grammar_translation.orthography import match_key
from dakota_grammar_translation.rewards import Scores, Weights, score_in_orthography
from dakota_grammar_translation.tasks import TaskRecord
from dakota_grammar_translation.taskset import SYSTEM_PROMPT, DakotaTasksetConfig, task_records
from env_kit import EnvSpec
from env_kit.spec import eval_options, system_prompt

ENV_ID = "dakota_grammar_translation"
WEIGHTS = Weights
"""The components this env scores (the model card and the trainers' metrics name them from here)."""
EVAL_KEYS = ("families", "difficulties", "task")
"""Options that also shape the held-out eval (passed to vf-eval as `--env.taskset.<key>`)."""


def gold_completion(task: Mapping[str, Any]) -> str:
    """A completion in the answer format carrying the gold (the SFT warm-up's target)."""
    return f"<answer>{task['answer']}</answer>"


def lemma_copy(scores: Scores, task: Mapping[str, Any]) -> bool | None:
    """Whether a wrong answer to a morphology task is the lemma the prompt gave, unchanged (None for other
    families): the copy the reward must not pay for."""
    if task.get("family") != "morphology" or not task.get("meta", {}).get("stem"):
        return None
    return (
        bool(scores.answer)
        and not scores.exact
        and match_key(scores.answer) == match_key(task["meta"]["stem"])
    )


def env_spec(options: Mapping[str, Any] | None = None) -> EnvSpec:
    """The environment as the launcher sees it (pydantic ValidationError on bad options)."""
    config = DakotaTasksetConfig.model_validate({**(options or {}), "id": ENV_ID})
    weights, task_config = config.task.weights, config.task

    def load(split: str) -> list[TaskRecord]:
        return task_records(
            config.model_copy(update={"split": split, "data_file": None}) if split != config.split else config
        )

    def scorer(completion: str | None, task: Mapping[str, Any], truncated: bool) -> Scores:
        return score_in_orthography(
            completion,
            task,
            weights,
            orthography=task_config.orthography,
            truncated=truncated,
            version=task_config.reward_version,
            format_gate=task_config.format_gate,
        )

    return EnvSpec(
        id=ENV_ID,
        config=config,
        system_prompt=system_prompt(config.system_prompt, SYSTEM_PROMPT),
        components=weights.components(),
        score=scorer,
        load_tasks=load,
        gold_completion=gold_completion,
        is_copy=lemma_copy,
        group_keys=("family", "difficulty"),
        heldout_split="heldout",
        extra_heldout_splits=("attested",),
        eval_options=eval_options(config.model_dump(exclude_unset=True), EVAL_KEYS),
    )
