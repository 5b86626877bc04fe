"""How the launcher sees this environment: `env_spec(options) -> EnvSpec` (the interface every env exposes).

`options` is the `[orchestrator.train.source.env.taskset]` table (less `id`): the corpus options of
`corpus.CorpusOptions`, `task.weights` (chrf / special / sanity / learned), `system_prompt` (a file) and
`reward_model` (a folder trained by `python -m dakota_rl.reward_model`, used when `task.weights.learned` >
0). A bad or unknown key raises pydantic's ValidationError, which the launcher's `load_env` turns into one
line naming the key; a corpus that cannot be read raises `CorpusError` (an `env_kit.EnvInputError`), which
it reports the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from env_kit import EnvSpec
from env_kit.spec import system_prompt
from parallel_translation.corpus import CorpusOptions, load_tasks
from parallel_translation.metrics import corpus_metrics
from parallel_translation.rewards import Weights, score

WEIGHTS = Weights
"""The components this env scores (the model card and the trainers' metrics name them from here)."""


class TaskOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: Weights = Weights()
    """chrf / special / sanity / learned (the reward model's score; needs `reward_model`)."""


class SpecOptions(CorpusOptions):
    """The taskset table as the launcher reads it."""

    task: TaskOptions = TaskOptions()
    system_prompt: Path | None = None
    """A file whose text replaces the default system prompt."""
    reward_model: Path | None = None
    """A reward-model folder (sequence-classification head) for the `learned` component."""
    eval_extras: list[Literal["comet", "comet-kiwi", "mauve"]] = []
    """Learned metrics the eval report adds to corpus chrF++ and BLEU (need their packages and weights)."""

    @model_validator(mode="after")
    def _learned_needs_model(self) -> SpecOptions:
        if self.task.weights.learned > 0 and self.reward_model is None:
            raise ValueError("task.weights.learned > 0 needs reward_model = <folder>")
        return self


def default_system_prompt() -> str:
    """The taskset's prompt (imported here only: the taskset module loads verifiers)."""
    from parallel_translation.taskset import SYSTEM_PROMPT

    return SYSTEM_PROMPT


def env_spec(options: Mapping[str, Any] | None = None) -> EnvSpec:
    """The launcher's EnvSpec for these taskset options, with `corpus_metrics` for the eval report."""
    opts = SpecOptions.model_validate(dict(options or {}))
    weights = opts.task.weights
    learned = None
    if weights.learned > 0:
        from parallel_translation.reward_model import LearnedReward

        learned = LearnedReward(opts.reward_model)

    def score_one(completion: str | None, task: Mapping[str, Any], truncated: bool) -> Any:
        return score(completion, task, weights, truncated=truncated, learned=learned)

    def load(split: str) -> list[dict[str, Any]]:
        return load_tasks(opts.model_copy(update={"split": split}))

    corpus_keys = set(CorpusOptions.model_fields) - {"split"}
    eval_options = {k: v for k, v in opts.model_dump(include=corpus_keys, exclude_defaults=True).items()}
    if weights != Weights():  # vf-eval scores without the reward model: renormalise the rest
        rest = weights.model_dump(exclude=set(Weights.external))
        eval_options["task"] = {"weights": {k: v / sum(rest.values()) for k, v in rest.items()}}
    return EnvSpec(
        id="parallel_translation",
        config=opts,
        system_prompt=system_prompt(opts.system_prompt, default_system_prompt()),
        components=weights.components(),
        score=score_one,
        load_tasks=load,
        gold_completion=lambda task: task["answer"],
        group_keys=("direction",),
        heldout_split="heldout",
        eval_options=eval_options,
        corpus_metrics=lambda answers, tasks: corpus_metrics(answers, tasks, opts.eval_extras),
    )
