"""Attributing answer tokens to the tokens before them: attention rollout and input × gradient.

- Attention rollout (Abnar & Zuidema 2020): per layer, the head-averaged attention mixed with the residual
  connection, Â = (A + I) / 2 (rows renormalised), multiplied through the layers, R = Â_L ⋯ Â_1. Row i of R
  is a distribution over the positions ≤ i (it sums to 1). It is folded layer by layer inside forward
  hooks, so only one [T, T] matrix is kept, whatever the depth or the number of heads.
- Input × gradient (Shrikumar et al. 2016): for the summed log-probability of the answer tokens, the dot
  product of each input embedding with its gradient.

Both are turned into shares: for the answer tokens, the mass on each earlier position, normalised to sum to
1 (absolute values for input × gradient), then summed per span (see `spans`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from dakota_interp.model import AttentionHooks


def rollout_step(rolled: torch.Tensor | None, attention: torch.Tensor, residual: float = 0.5) -> torch.Tensor:
    """Fold one layer's attention [heads, T, T] into the running rollout [T, T] (None before layer 0)."""
    mixed = (1.0 - residual) * attention.float().mean(0) + residual * torch.eye(attention.shape[-1])
    mixed = mixed / mixed.sum(-1, keepdim=True)
    return mixed if rolled is None else mixed @ rolled


def rollout(attentions: Sequence[torch.Tensor], residual: float = 0.5) -> torch.Tensor:
    """Attention rollout [T, T] from per-layer attention [heads, T, T] (first layer first)."""
    rolled = None
    for attention in attentions:
        rolled = rollout_step(rolled, attention, residual)
    if rolled is None:
        raise ValueError("no attention layers to roll out")
    return rolled


class RolloutRecorder(AttentionHooks):
    """Folds each layer's attention into the rollout (batch of one)."""

    def __init__(self, model: Any, residual: float = 0.5):
        super().__init__(model)
        self.residual = residual
        self.rolled: torch.Tensor | None = None

    def reset(self) -> None:
        self.rolled = None

    def record(self, layer: int, weights: torch.Tensor) -> None:
        self.rolled = rollout_step(self.rolled, weights[0], self.residual)


def attribute(model: Any, input_ids: torch.Tensor, answer: Sequence[int]) -> dict[str, torch.Tensor]:
    """Rollout and input × gradient of the answer tokens at positions `answer` (indices into the sequence,
    each > 0) over every position, from one forward and one backward pass.

    Returns per-position vectors [T]: `rollout` (mean over answer tokens of the rollout row of the position
    that predicts each of them), `input_x_grad` (signed),
    and `answer_logprob` (the summed log-probability)."""
    if not answer or min(answer) < 1:
        raise ValueError("answer positions must be non-empty and after the first token")
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        embeds = model.get_input_embeddings()(input_ids).detach().requires_grad_(True)
        with torch.enable_grad(), RolloutRecorder(model) as rec:
            logits = model(inputs_embeds=embeds, use_cache=False).logits[0]
            predictors = torch.tensor(answer) - 1
            logprobs = torch.log_softmax(logits[predictors].float(), -1)
            total = logprobs.gather(-1, input_ids[0, answer][:, None]).sum()
            total.backward()
    finally:
        for p in params:
            p.requires_grad_(True)
    assert rec.rolled is not None and embeds.grad is not None
    return {
        "rollout": rec.rolled[predictors].mean(0),
        "input_x_grad": (embeds.float() * embeds.grad.float()).sum(-1)[0].detach(),
        "answer_logprob": total.detach(),
    }


def shares(scores: torch.Tensor, sources: torch.Tensor, *, absolute: bool = False) -> torch.Tensor:
    """`scores` restricted to the `sources` mask and normalised to sum to 1 (absolute values when
    `absolute`); all zeros when there is no mass."""
    x = scores.float().abs() if absolute else scores.float().clamp_min(0.0)
    x = torch.where(sources, x, torch.zeros_like(x))
    total = x.sum()
    return x / total if float(total) > 0 else x


def bootstrap_mean_ci(values: Sequence[float], n: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """(mean, 2.5% and 97.5% bootstrap quantiles of the mean) over examples."""
    x = torch.tensor(list(values), dtype=torch.float64)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    gen = torch.Generator().manual_seed(seed)
    means = x[torch.randint(len(x), (n, len(x)), generator=gen)].mean(-1)
    return float(x.mean()), float(means.quantile(0.025)), float(means.quantile(0.975))
