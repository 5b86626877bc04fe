"""Identifiers from config (environment ids, option keys) are checked as identifiers before any use.

A config string is data: it may name a module or a flag only after it passed `check_identifier`, and even
then it travels as an argument (`importlib.import_module(name)`, `--flag=value`), never as code.
"""

from __future__ import annotations

import keyword
import re

from dakota_rl.config import ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def check_identifier(value: object, what: str, *, dotted: bool = False) -> str:
    """`value` when it is a (dotted, if allowed) Python identifier; `-` counts as `_`. Else ConfigError."""
    text = value if isinstance(value, str) else ""
    parts = text.replace("-", "_").split(".") if dotted else [text.replace("-", "_")]
    if not text or not all(_NAME.fullmatch(p) and not keyword.iskeyword(p) for p in parts):
        raise ConfigError(
            f"{what} {value!r} is not a valid identifier (letters, digits, '_' or '-'"
            + (", dotted" if dotted else "")
            + ")"
        )
    return text
