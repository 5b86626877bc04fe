"""Loading a causal LM for analysis, the layout helpers every analysis shares, and prompt encoding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import torch

from dakota_interp.corpora import user_prompt
from dakota_interp.tokenization import Piece, pieces
from dakota_rl.errors import UserError

ANSWER_PREFIX = "<answer>"
"""Teacher-forced analyses start the assistant turn with this, so the next token is the answer's first."""


def resolve(name_or_path: str) -> str:
    """A local folder, or a name the launcher resolves (`dakota_rl.models.resolve_model`: the offline
    SmolLM2 alias `smollm2-135m-instruct`, cached hub ids); without the launcher, the name as given."""
    try:
        from dakota_rl.models import ModelNotFoundError, resolve_model
    except ImportError:
        return name_or_path
    try:
        return str(resolve_model(name_or_path))
    except ModelNotFoundError as exc:
        raise UserError(str(exc)) from None


def load(name_or_path: str, *, dtype: torch.dtype = torch.float32) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode with eager attention, so attention weights reach the hooks."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="eager")
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load model {name_or_path!r}: {str(exc).splitlines()[0]}") from None
    return model.eval(), tokenizer


def layers(model: Any) -> list[Any]:
    """The decoder layers (Llama/Qwen/Mistral-style `model.model.layers`)."""
    try:
        return list(model.model.layers)
    except AttributeError as exc:
        raise UserError(f"unsupported architecture {type(model).__name__}: no model.model.layers") from exc


class AttentionHooks:
    """A context manager that hooks every self-attention module and hands each layer's attention weights
    [batch, heads, T, T] to `record(layer, weights)`. Needs eager attention (the module returns its weights);
    subclasses say what to keep."""

    def __init__(self, model: Any):
        self.model = model
        self._handles: list[Any] = []

    def reset(self) -> None:
        """Forget what was recorded; called on entering."""

    def record(self, layer: int, weights: torch.Tensor) -> None:
        raise NotImplementedError

    def _hook(self, layer: int):
        def hook(_module: Any, _args: Any, output: Any) -> None:
            weights = output[1] if isinstance(output, tuple) and len(output) > 1 else None
            if weights is None:
                raise RuntimeError(
                    "attention weights are not returned: load the model with attn_implementation='eager'"
                )
            self.record(layer, weights.detach())

        return hook

    def __enter__(self) -> Self:
        self.reset()
        self._handles = [
            layer.self_attn.register_forward_hook(self._hook(i)) for i, layer in enumerate(layers(self.model))
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []


def head_layout(model: Any) -> tuple[int, int, int, int]:
    """(layers, query heads, key/value heads, head dim)."""
    cfg = model.config
    heads = cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    return cfg.num_hidden_layers, heads, getattr(cfg, "num_key_value_heads", heads), head_dim


@dataclass
class Encoded:
    """A prompt rendered with the chat template (+ the answer prefix), its tokens and character offsets."""

    text: str
    input_ids: torch.Tensor
    pieces: list[Piece]


def chat_text(tokenizer: Any, task: Mapping[str, Any]) -> str:
    """The chat-formatted prompt ending in the assistant's answer prefix (thinking disabled where the
    template supports it)."""
    messages = [{"role": "user", "content": user_prompt(task)}]
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, enable_thinking=False
    )
    return text + ANSWER_PREFIX


def encode(tokenizer: Any, text: str) -> Encoded:
    """Tokenise `text` (special tokens written in it are kept) with offsets."""
    toks = pieces(tokenizer, text)
    return Encoded(text, torch.tensor([[p.token_id for p in toks]]), toks)


def encode_with_gold(tokenizer: Any, task: Mapping[str, Any]) -> tuple[Encoded, int] | None:
    """The prompt's tokens followed by the gold answer's own tokens, and the number of prompt tokens.

    The two parts are tokenised separately (as a model generating the answer would emit it after the
    prefix), so no token straddles the boundary; None when the answer has no tokens."""
    prompt = chat_text(tokenizer, task)
    head = pieces(tokenizer, prompt)
    tail = [
        Piece(p.token_id, p.start + len(prompt), p.end + len(prompt), p.fragment)
        for p in pieces(tokenizer, task["answer"])
    ]
    if not tail:
        return None
    toks = head + tail
    return Encoded(prompt + task["answer"], torch.tensor([[p.token_id for p in toks]]), toks), len(head)
