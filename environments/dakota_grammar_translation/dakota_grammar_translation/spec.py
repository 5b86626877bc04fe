"""What a trainer outside verifiers needs from this environment, built from the taskset's own config.

`env_spec(options)` validates `options` as `DakotaTasksetConfig` (the `[…env.taskset]` table vf-eval and
prime-rl load, minus `id`), so every option means the same in every backend and an unknown one is refused
with its path. Tasks come from `DakotaTaskset.load()`; the scorer is the one the verifiers Task calls
(`rewards.score_in_orthography` with the configured weights and `task.orthography`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from dakota_grammar_translation.orthography import match_key
from dakota_grammar_translation.rewards import Scores, Weights, score_in_orthography
from dakota_grammar_translation.taskset import SYSTEM_PROMPT, DakotaTaskset, DakotaTasksetConfig

ENV_ID = "dakota_grammar_translation"
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


def env_spec(options: Mapping[str, Any] | None = None) -> SimpleNamespace:
    """The environment as the launcher's `EnvSpec` describes it (pydantic ValidationError on bad options)."""
    config = DakotaTasksetConfig.model_validate({**(options or {}), "id": ENV_ID})
    weights = Weights(**config.task.weights.model_dump())
    system_prompt = (
        config.system_prompt.read_text(encoding="utf-8") if config.system_prompt else SYSTEM_PROMPT
    )

    def load_tasks(split: str) -> list[dict[str, Any]]:
        update: dict[str, Any] = {"split": split}
        if split != config.split:
            update["data_file"] = None
        view = config.model_copy(update=update)
        return [task.data.record() for task in DakotaTaskset(view).load()]

    def scorer(completion: str | None, task: Mapping[str, Any], truncated: bool) -> Scores:
        return score_in_orthography(
            completion, task, weights, orthography=config.task.orthography, truncated=truncated
        )

    given = config.model_dump(exclude_unset=True)
    return SimpleNamespace(
        id=ENV_ID,
        config=config,
        system_prompt=system_prompt,
        components={
            "character": weights.character,
            "morphology": weights.morphology,
            "semantic": weights.semantic,
        },
        score=scorer,
        load_tasks=load_tasks,
        gold_completion=gold_completion,
        is_copy=lemma_copy,
        group_keys=("family", "difficulty"),
        heldout_split="heldout",
        extra_heldout_splits=("attested",),
        eval_options={k: given[k] for k in EVAL_KEYS if given.get(k)},
    )
