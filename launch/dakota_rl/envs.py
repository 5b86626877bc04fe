"""Environments as the local trainer and the eval report see them: each package describes itself.

`load_env("letter_counting", {"mixture": {1: 1, 3: 2}})` imports `letter_counting.spec` and calls its
`env_spec(options)`, which validates the options with the environment's own taskset config (the class vf-eval
and prime-rl load) and builds tasks, system prompt, weights and scorer from it. A new environment package
needs a `spec.py` and no launcher change. Every reward comes from the environment's pure scorer, so a TRL run,
`vf-eval` and the report agree on every number.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dakota_rl.config import validation_error
from dakota_rl.errors import UserError


@dataclass(frozen=True)
class EnvSpec:
    """One environment as seen by the trainers and the report."""

    id: str
    system_prompt: str
    components: dict[str, float]
    """Reward component name → weight; the total is Σ weight × component."""
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
    None. The local backend's `[local.curriculum]` drives it (backends/local/curriculum.py)."""
    train_task: Callable[[int], dict[str, Any]] | None = None
    """Train task number `index`, drawn now (follows the curriculum); None when tasks are a fixed list."""
    is_copy: Callable[[Any, Mapping[str, Any]], bool | None] | None = None
    """(Scores, task) → whether a wrong answer copies the form the prompt gave (Dakota: the lemma of a
    morphology task); None for tasks that give none. The copy detector of the diagnostics."""
    corpus_metrics: Callable[[list[Any], list[Mapping[str, Any]]], dict[str, Any]] | None = None
    """(answers, tasks) → corpus-level metrics for the eval report (parallel_translation: chrF++, BLEU)."""
    input_errors: tuple[type[Exception], ...] = ()
    """The env's own exception types for bad user input in `load_tasks` (parallel_translation: a corpus that
    cannot be read); `load_env` turns them into one-line `UserError`s, so no env imports the launcher."""

    def component_values(self, scores: Any) -> dict[str, float]:
        """Each component's unweighted value from a Scores object."""
        return {name: float(getattr(scores, name)) for name in self.components}


def canonical_env_id(env_id: str) -> str:
    """`letter-counting` → `letter_counting` (the package name); UserError unless it is an identifier."""
    key = str(env_id).strip().replace("-", "_")
    if not key.isidentifier():
        raise UserError(f"unknown env id {env_id!r}: an env id is a Python package name like letter_counting")
    return key


def _spec_module(key: str, env_id: str) -> Any:
    try:
        return importlib.import_module(f"{key}.spec")
    except ModuleNotFoundError as err:
        if err.name == key:
            raise UserError(
                f"unknown env id {env_id!r}: no installed environment package `{key}` "
                "(install it into this venv, e.g. with launch/setup.sh)"
            ) from None
        if err.name == f"{key}.spec":
            raise UserError(
                f"environment `{key}` has no `spec.py` with `env_spec(options)`, which the local "
                "backend and the eval report need"
            ) from None
        raise UserError(f"environment {key!r} is not installed ({err}); run launch/setup.sh") from None


def load_env(env_id: str, options: Mapping[str, Any] | None = None, *, where: str = "taskset") -> EnvSpec:
    """The EnvSpec for `env_id` with taskset `options`; UserError naming `where.<key>` for a bad option."""
    key = canonical_env_id(env_id)
    module = _spec_module(key, env_id)
    try:
        described = module.env_spec(dict(options or {}))
    except ValidationError as err:
        raise validation_error(err, prefix=where) from None
    except FileNotFoundError as err:
        raise missing_file_error(err, options or {}, where) from None
    names = {f.name for f in fields(EnvSpec)}
    spec = EnvSpec(**{name: getattr(described, name) for name in names if hasattr(described, name)})
    if spec.input_errors:
        spec = replace(spec, load_tasks=_reporting(spec.load_tasks, spec.id, spec.input_errors))
    return spec


def _reporting(
    load_tasks: Callable[[str], list[dict[str, Any]]], env_id: str, errors: tuple[type[Exception], ...]
) -> Callable[[str], list[dict[str, Any]]]:
    """`load_tasks` with the env's input errors raised as `UserError("<env id>: <message>")`."""

    def load(split: str) -> list[dict[str, Any]]:
        try:
            return load_tasks(split)
        except errors as err:
            raise UserError(f"{env_id}: {err}") from None

    return load


def missing_file_error(err: FileNotFoundError, options: Mapping[str, Any], where: str) -> UserError:
    """A UserError naming the option whose file is missing (`taskset.system_prompt: file not found: …`)."""
    paths = {k: str(v) for k, v in options.items() if isinstance(v, str | Path)}
    keys = [k for k, v in paths.items() if v == str(err.filename)] or [
        k for k, v in paths.items() if v in str(err) and not Path(v).exists()
    ]
    missing = err.filename or (paths[keys[0]] if keys else err)
    return UserError(f"{where}.{keys[0] if keys else '?'}: file not found: {missing}")
