"""Taskset options are checked by the environment's own taskset config before any work starts.

`check_env_options("letter_counting", {"tier": "hard"})` raises ConfigError naming the key
(`…env.taskset.tier: Input should be a valid integer (got 'hard')`): typos, wrong types, weights above 1 and
unknown reward modes stop the CLI with one line instead of a traceback mid-training. Files the options name
(`system_prompt`, `data_file`) must exist.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dakota_rl.config import ConfigError

TASKSET_CONFIGS = {
    "dakota_grammar_translation": (
        "dakota_grammar_translation.taskset",
        "DakotaTasksetConfig",
        ("system_prompt", "data_file"),
    ),
    "letter_counting": ("letter_counting.taskset", "LetterCountingConfig", ()),
}
"""env id → (module, taskset config class, options that name a file)."""
WHERE = "[orchestrator.train.source.env.taskset]"


def check_env_options(env_id: str, options: Mapping[str, Any]) -> None:
    """Validate `options` with the env's taskset config; ConfigError (one line, naming the key) if not."""
    if env_id not in TASKSET_CONFIGS:
        return
    module, name, file_keys = TASKSET_CONFIGS[env_id]
    config_cls = getattr(importlib.import_module(module), name)
    try:
        config_cls.model_validate({"id": env_id, **options})
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            raise ConfigError(
                f"{WHERE}: unknown option `{key}` for {env_id} (known: "
                f"{', '.join(sorted(config_cls.model_fields))})"
            ) from None
        raise ConfigError(f"{WHERE}: `{key}`: {first['msg']} (got {first.get('input')!r})") from None
    for key in file_keys:
        if options.get(key) and not Path(options[key]).is_file():
            raise ConfigError(f"{WHERE}: `{key}`: file not found: {options[key]}")
