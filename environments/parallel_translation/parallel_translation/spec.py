"""How the launcher sees this environment: `env_spec(options) -> EnvSpec` (the interface every env exposes).

`options` is the `[orchestrator.train.source.env.taskset]` table (less `id`): the corpus options of
`corpus.CorpusOptions`, `task.weights` (chrf / special / sanity / learned), `system_prompt` (a file) and
`reward_model` (a folder trained by `python -m dakota_rl.reward_model`, used when `task.weights.learned` >
0). A bad or unknown key raises pydantic's ValidationError, which the launcher's `load_env` turns into one
line naming the key; a corpus that cannot be read raises `CorpusError` (declared as `input_errors`), which
it reports the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from parallel_translation.corpus import CorpusError, CorpusOptions, load_tasks
from parallel_translation.metrics import corpus_metrics
from parallel_translation.rewards import DEFAULT_WEIGHTS, Weights, score


class WeightOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chrf: float = DEFAULT_WEIGHTS.chrf
    special: float = DEFAULT_WEIGHTS.special
    sanity: float = DEFAULT_WEIGHTS.sanity
    learned: float = 0.0
    """Weight of the reward model's score; needs `reward_model`."""


class TaskOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: WeightOptions = WeightOptions()


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
        Weights(**self.task.weights.model_dump())
        if self.task.weights.learned > 0 and self.reward_model is None:
            raise ValueError("task.weights.learned > 0 needs reward_model = <folder>")
        return self


def env_spec(options: Mapping[str, Any] | None = None) -> SimpleNamespace:
    """The launcher's EnvSpec fields for these taskset options, plus `corpus_metrics` for the eval report."""
    opts = SpecOptions.model_validate(dict(options or {}))
    weights = Weights(**opts.task.weights.model_dump())
    components = {"chrf": weights.chrf, "special": weights.special, "sanity": weights.sanity}
    learned = None
    if weights.learned > 0:
        from parallel_translation.reward_model import LearnedReward

        learned = LearnedReward(opts.reward_model)
        components["learned"] = weights.learned
    if opts.system_prompt is not None:
        system_prompt = opts.system_prompt.read_text(encoding="utf-8")
    else:
        from parallel_translation.taskset import SYSTEM_PROMPT

        system_prompt = SYSTEM_PROMPT

    def score_one(completion: str | None, task: Mapping[str, Any], truncated: bool) -> Any:
        return score(completion, task, weights, truncated=truncated, learned=learned)

    def load(split: str) -> list[dict[str, Any]]:
        return load_tasks(opts.model_copy(update={"split": split}))

    corpus_keys = set(CorpusOptions.model_fields) - {"split"}
    eval_options = {k: v for k, v in opts.model_dump(include=corpus_keys, exclude_defaults=True).items()}
    if opts.task.weights != WeightOptions():  # vf-eval scores without the reward model: renormalise the rest
        rest = opts.task.weights.model_dump(exclude={"learned"})
        eval_options["task"] = {"weights": {k: v / sum(rest.values()) for k, v in rest.items()}}
    return SimpleNamespace(
        id="parallel_translation",
        config=opts,
        system_prompt=system_prompt,
        components=components,
        score=score_one,
        load_tasks=load,
        input_errors=(CorpusError,),
        gold_completion=lambda task: task["answer"],
        group_keys=("direction",),
        heldout_split="heldout",
        eval_options=eval_options,
        corpus_metrics=lambda answers, tasks: corpus_metrics(answers, tasks, opts.eval_extras),
    )
