"""Environments as the local trainer and the eval report see them: each package describes itself.

`load_env("letter_counting", {"mixture": {1: 1, 3: 2}})` imports `letter_counting.spec` and calls its
`env_spec(options)`, which validates the options with the environment's own taskset config (the class vf-eval
and prime-rl load) and returns an `env_kit.EnvSpec` (tasks, system prompt, weights, scorer), used as it is.
A new environment package needs a `spec.py` and no launcher change. Every reward comes from the environment's
pure scorer, so a TRL run, `vf-eval` and the report agree on every number.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dakota_rl.config import validation_error
from dakota_rl.errors import UserError
from env_kit import EnvSpec


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
    """The EnvSpec for `env_id` with taskset `options`; UserError naming `where.<key>` for a bad option.
    Its `load_tasks` reads each split once (later calls get a new list of the same records)."""
    key = canonical_env_id(env_id)
    module = _spec_module(key, env_id)
    try:
        described = module.env_spec(dict(options or {}))
    except ValidationError as err:
        raise validation_error(err, prefix=where) from None
    except FileNotFoundError as err:
        raise missing_file_error(err, options or {}, where) from None
    if not isinstance(described, EnvSpec):
        raise UserError(
            f"environment `{key}`: env_spec() returned {type(described).__name__}, not env_kit.EnvSpec"
        )
    return replace(described, load_tasks=_loaded_once(described))


def component_names(env_id: str) -> tuple[str, ...]:
    """The reward components the env's weights model (`<id>.spec.WEIGHTS`) names, in its field order; none
    for an env that is not installed or names no weights model."""
    try:
        module = _spec_module(canonical_env_id(env_id), env_id)
    except UserError:
        return ()
    weights = getattr(module, "WEIGHTS", None)
    return weights.names() if weights is not None else ()


def _loaded_once(env: EnvSpec) -> Callable[[str], list[dict[str, Any]]]:
    """`env.load_tasks`, each split read once, with the env's input errors raised as
    `UserError("<env id>: <message>")`. The curriculum's `train_task` draws anew; this list is fixed."""
    loaded: dict[str, list[dict[str, Any]]] = {}

    def load(split: str) -> list[dict[str, Any]]:
        if split not in loaded:
            try:
                loaded[split] = env.load_tasks(split)
            except env.input_errors as err:
                raise UserError(f"{env.id}: {err}") from None
        return list(loaded[split])

    return load


def missing_file_error(err: FileNotFoundError, options: Mapping[str, Any], where: str) -> UserError:
    """A UserError naming the option whose file is missing (`taskset.system_prompt: file not found: …`)."""
    paths = {k: str(v) for k, v in options.items() if isinstance(v, str | Path)}
    keys = [k for k, v in paths.items() if v == str(err.filename)] or [
        k for k, v in paths.items() if v in str(err) and not Path(v).exists()
    ]
    missing = err.filename or (paths[keys[0]] if keys else err)
    return UserError(f"{where}.{keys[0] if keys else '?'}: file not found: {missing}")
