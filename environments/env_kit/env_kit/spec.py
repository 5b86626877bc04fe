"""`EnvSpec`: an environment as a trainer outside verifiers sees it (local backend, eval, report). Pure.

Each environment's `spec.py` builds one from its taskset options with `env_spec(options) -> EnvSpec`, and
names its weights model `WEIGHTS`. The launcher uses the spec as it is: a misspelt field is a `TypeError`
where the environment builds it, not a value that silently goes missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from env_kit.errors import EnvInputError


@dataclass(frozen=True, kw_only=True)
class EnvSpec:
    """One environment as seen by the trainers and the report."""

    id: str
    system_prompt: str
    components: dict[str, float]
    """Reward component name → weight (`Weights.components()`); the total is Σ weight × component."""
    score: Callable[[str | None, Mapping[str, Any], bool], Any]
    """(completion, task, truncated) → the env's Scores (`.total`, `.exact`, `.format_ok`, `.truncated`…)."""
    load_tasks: Callable[[str], list[dict[str, Any]]]
    """split ("train" | the held-out split) → task records."""
    gold_completion: Callable[[Mapping[str, Any]], str]
    """A completion in the env's answer format that carries the gold answer (SFT warm-up)."""
    group_keys: tuple[str, ...]
    """Task fields the report breaks results down by."""
    heldout_split: str
    """The split name the env's taskset uses for held-out evaluation."""
    eval_options: dict[str, Any]
    """Taskset options that also apply to the held-out eval (`--env.taskset.<key>` for vf-eval)."""
    extra_heldout_splits: tuple[str, ...] = ()
    """Further held-out splits the experiment also scores (dakota_grammar_translation: "attested")."""
    config: Any = None
    """The environment's validated taskset config (its own pydantic class)."""
    curriculum: Any = None
    """An object with `update(rewards_of_a_group)` and `current_tier` when the taskset adapts to rewards, else
    None."""
    train_task: Callable[[int], dict[str, Any]] | None = None
    """Train task number `index`, drawn now (follows the curriculum); None when tasks are a fixed list."""
    with_curriculum: Callable[[Mapping[str, Any]], EnvSpec] | None = None
    """(`start_tier`, `window`, `up`, `down`) → this env with its adaptive curriculum on, set from them (its
    `curriculum` and `train_task` then drive training); None for an env without one. Raises pydantic's
    ValidationError for values its taskset refuses."""
    is_copy: Callable[[Any, Mapping[str, Any]], bool | None] | None = None
    """(Scores, task) → whether a wrong answer copies the form the prompt gave (Dakota: the lemma of a
    morphology task); None for tasks that give none. The copy detector of the diagnostics."""
    corpus_metrics: Callable[[list[Any], list[Mapping[str, Any]]], dict[str, Any]] | None = None
    """(answers, tasks) → corpus-level metrics for the eval report (parallel_translation: chrF++, BLEU)."""
    input_errors: tuple[type[Exception], ...] = (EnvInputError,)
    """The exception types `load_tasks` raises for bad user input; a launcher shows them as one line."""

    def component_values(self, scores: Any) -> dict[str, float]:
        """Each component's unweighted value from a Scores object."""
        return {name: float(getattr(scores, name)) for name in self.components}


def eval_options(given: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The options among `keys` the user set (non-empty): what the held-out eval also gets."""
    return {k: given[k] for k in keys if given.get(k)}


def system_prompt(path: Any, default: str) -> str:
    """The text of the `system_prompt` file option, else the env's default prompt."""
    return path.read_text(encoding="utf-8") if path else default
