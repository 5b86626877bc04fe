"""Per-head attention statistics, gathered inside forward hooks so no attention pattern is kept.

For each layer × head, over queries i ≥ 1 (query 0 can only attend to itself):
- entropy H_i = −Σ_k a_ik log a_ik, and H_i / log(i+1) (1 = uniform over the visible prefix);
- sink mass a_i0 (attention on the first token);
- for each token class (Riggs special letters, byte fragments, digits): the attention mass on tokens of the
  class, and the mass a uniform head would give them (visible class tokens / (i+1)). A ratio above 1
  means the head attends to the class more than chance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from dakota_interp.model import AttentionHooks, Encoded, head_layout


def token_classes(enc: Encoded) -> dict[str, torch.Tensor]:
    """Boolean masks over the tokens: `dakota_special` (covers a non-ASCII letter), `byte_fragment`,
    `digit` (covers a digit)."""
    spans = [enc.text[p.start : p.end] for p in enc.pieces]
    return {
        "dakota_special": torch.tensor([any(c.isalpha() and not c.isascii() for c in s) for s in spans]),
        "byte_fragment": torch.tensor([p.fragment for p in enc.pieces]),
        "digit": torch.tensor([any(c.isdigit() for c in s) for s in spans]),
    }


def pattern_stats(pattern: torch.Tensor, classes: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Sums over queries i ≥ 1 of one prompt's attention `pattern` [heads, q, k] (rows sum to 1).

    Returns per-head sums (shape [heads]) of entropy, normalised entropy, sink mass, and per class the mass
    and its uniform baseline, plus `queries` (the number of queries summed)."""
    p = pattern.float()[:, 1:, :]
    n = pattern.shape[-1]
    positions = torch.arange(1, n, dtype=torch.float32)
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)
    out = {
        "entropy": entropy.sum(-1),
        "entropy_norm": (entropy / torch.log(positions + 1)).sum(-1),
        "sink": p[:, :, 0].sum(-1),
        "queries": torch.tensor(float(n - 1)),
    }
    for name, mask in classes.items():
        m = mask[:n].float()
        visible = torch.cumsum(m, 0)[1:]
        out[f"{name}_mass"] = (p * m).sum(-1).sum(-1)
        out[f"{name}_baseline"] = (visible / (positions + 1)).sum().expand(p.shape[0]).clone()
    return out


class AttentionRecorder(AttentionHooks):
    """Folds each layer's pattern into running sums per head.

    Use as a context manager around forwards and set `classes` to the current prompt's token classes before
    each forward; the sums add up across `with` blocks."""

    def __init__(self, model: Any):
        super().__init__(model)
        self.n_layers, self.n_heads, _, _ = head_layout(model)
        self.sums: dict[str, torch.Tensor] = {}
        self.classes: Mapping[str, torch.Tensor] = {}

    def record(self, layer: int, weights: torch.Tensor) -> None:
        for b in range(weights.shape[0]):
            for key, value in pattern_stats(weights[b], self.classes).items():
                acc = self.sums.setdefault(key, torch.zeros(self.n_layers, *value.shape))
                acc[layer] += value


@torch.no_grad()
def attention_summary(model: Any, encoded: Sequence[Encoded]) -> dict[str, Any]:
    """Mean per-head statistics over prompts ([layers][heads] nested lists) for JSON and heatmaps."""
    recorder = AttentionRecorder(model)
    with recorder:
        for enc in encoded:
            recorder.classes = token_classes(enc)
            model(input_ids=enc.input_ids, use_cache=False, logits_to_keep=1)
    s = recorder.sums
    if not s:
        raise ValueError("no prompts to analyse")
    q = s["queries"].unsqueeze(-1)
    summary: dict[str, Any] = {
        "prompts": len(encoded),
        "tokens_per_prompt": sum(e.input_ids.shape[1] for e in encoded) / len(encoded),
        "entropy": (s["entropy"] / q).tolist(),
        "entropy_norm": (s["entropy_norm"] / q).tolist(),
        "sink_mass": (s["sink"] / q).tolist(),
    }
    for name in ("dakota_special", "byte_fragment", "digit"):
        base = s[f"{name}_baseline"]
        if float(base.sum()) > 0:
            summary[f"{name}_mass"] = (s[f"{name}_mass"] / q).tolist()
            summary[f"{name}_ratio"] = (s[f"{name}_mass"] / base.clamp_min(1e-12)).tolist()
            summary[f"{name}_baseline"] = float(base[0, 0] / q[0, 0])
    return summary
