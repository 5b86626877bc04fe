"""What the interactive report shows for one example and one model, made small enough to inline.

Per example: its tokens (text, byte-fragment and special-letter flags, span labels) for the prompt followed
by the gold answer, every head's attention pattern over them (query rows from the user turn on: the
chat template's own rows are left out), quantised to `LEVELS` steps on a square-root
scale (small weights stay visible) and zlib-compressed, and the logit-lens rank of the gold's first token
per layer. Attention is kept one layer at a time inside a hook, so memory stays at one layer's pattern.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from typing import Any

import torch

from dakota_interp import lens, spans
from dakota_interp.attention import token_classes
from dakota_interp.corpora import user_prompt
from dakota_interp.model import AttentionHooks, chat_text, encode_with_gold, head_layout

LEVELS = 7
"""Attention is stored as round(sqrt(a) × LEVELS), one byte per weight (the viewer squares it back)."""


def pack(array: torch.Tensor) -> str:
    """uint8 array → zlib-compressed, base64 text (the viewer inflates it with DecompressionStream)."""
    return base64.b64encode(zlib.compress(array.to(torch.uint8).contiguous().numpy().tobytes(), 9)).decode()


def quantise(pattern: torch.Tensor) -> torch.Tensor:
    """Attention weights in [0, 1] → integers 0..LEVELS on a square-root scale."""
    return (pattern.float().clamp(0, 1).sqrt() * LEVELS).round().to(torch.uint8)


class PatternRecorder(AttentionHooks):
    """Keeps every layer's quantised attention pattern [heads, T, T] (batch of one)."""

    def __init__(self, model: Any):
        super().__init__(model)
        self.patterns: list[torch.Tensor] = []

    def reset(self) -> None:
        self.patterns = []

    def record(self, layer: int, weights: torch.Tensor) -> None:
        self.patterns.append(quantise(weights[0]))


def example_tokens(tokenizer: Any, task: Mapping[str, Any]) -> dict[str, Any] | None:
    """The tokens of prompt + gold answer with their flags and span labels (model-independent)."""
    encoded = encode_with_gold(tokenizer, task)
    if encoded is None:
        return None
    enc, n_prompt = encoded
    prompt = chat_text(tokenizer, task)
    char_labels = spans.chat_labels(task, prompt, user_prompt(task)) + ["answer"] * len(task["answer"])
    offsets = [(p.start, p.end) for p in enc.pieces]
    classes = token_classes(enc)
    labels = spans.token_labels(offsets, char_labels, enc.text)
    return {
        "id": task["id"],
        "domain": spans.domain_of(task),
        "family": task["family"],
        "difficulty": task["difficulty"],
        "prompt": task["prompt"],
        "answer": task["answer"],
        "tokens": [
            enc.text[s:e] if i == 0 or offsets[i - 1] != (s, e) else "" for i, (s, e) in enumerate(offsets)
        ],
        "n_prompt": n_prompt,
        "fragment": classes["byte_fragment"].int().tolist(),
        "special": classes["dakota_special"].int().tolist(),
        "labels": labels,
        "first_query": next((i for i, x in enumerate(labels) if x != "template"), 0),
        "_ids": enc.input_ids,
    }


@torch.no_grad()
def model_view(
    model: Any, tokenizer: Any, task: Mapping[str, Any], ids: torch.Tensor, first_query: int = 0
) -> dict[str, Any]:
    """One model on one example: packed attention [layers, heads, T - first_query, T] and the logit-lens
    ranks of the gold's first token."""
    with PatternRecorder(model) as rec:
        model(input_ids=ids, use_cache=False, logits_to_keep=1)
    attention = torch.stack(rec.patterns)
    lensed = lens.lens_for_task(model, tokenizer, task)
    n_layers, n_heads, _, _ = head_layout(model)
    return {
        "layers": n_layers,
        "heads": n_heads,
        "attention": pack(attention[:, :, first_query:]),
        "entropy": head_entropy(attention).tolist(),
        "lens_rank": lensed["rank"] if lensed else None,
        "lens_token": lensed["target_token"] if lensed else None,
    }


def head_entropy(quantised: torch.Tensor) -> torch.Tensor:
    """Mean normalised attention entropy per head [layers, heads] of a quantised pattern (queries ≥ 1),
    so summary cells can rank the examples behind them."""
    p = (quantised.float() / LEVELS) ** 2
    p = p / p.sum(-1, keepdim=True).clamp_min(1e-12)
    p = p[..., 1:, :]
    ent = -(p * p.clamp_min(1e-30).log()).sum(-1)
    norm = torch.log(torch.arange(2, p.shape[-1] + 1, dtype=torch.float32))
    return (ent / norm).mean(-1).round(decimals=3)
