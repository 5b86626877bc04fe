"""Logit lens: decode the residual stream after each layer with the model's final norm and unembedding,
and follow the gold answer's first token (its rank and log-probability per layer).

Only the last prompt position is kept from each layer (hooks), so long prompts cost no extra memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from dakota_interp.model import encode_with_gold, layers


class LastPositionRecorder:
    """Forward hooks that keep one position of each decoder layer's output (and of the embeddings)."""

    def __init__(self, model: Any, position: int = -1):
        self.model, self.position = model, position
        self.states: list[torch.Tensor] = []
        self._handles: list[Any] = []

    def _keep(self, _module: Any, _args: Any, output: Any) -> None:
        hidden = output[0] if isinstance(output, tuple) else output
        self.states.append(hidden[0, self.position].detach().float())

    def __enter__(self) -> LastPositionRecorder:
        self.states = []
        modules = [self.model.get_input_embeddings(), *layers(self.model)]
        self._handles = [m.register_forward_hook(self._keep) for m in modules]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()


def decode_residuals(model: Any, states: torch.Tensor) -> torch.Tensor:
    """Log-probabilities [layers+1, vocab] from residuals [layers+1, hidden] (final norm, then unembedding).

    The last layer's output already went through the model's final norm inside the model's forward; the
    hooks see it before, so applying the norm here reproduces the model's own logits."""
    normed = model.model.norm(states.to(model.lm_head.weight.dtype))
    return torch.log_softmax(model.lm_head(normed).float(), dim=-1)


@torch.no_grad()
def lens_for_task(model: Any, tokenizer: Any, task: Mapping[str, Any]) -> dict[str, Any] | None:
    """Rank (0 = top-1) and log-prob of the gold's first token after each layer (index 0 = embeddings)."""
    encoded = encode_with_gold(tokenizer, task)
    if encoded is None:
        return None
    enc, n_prompt = encoded
    target = int(enc.input_ids[0, n_prompt])
    with LastPositionRecorder(model) as rec:
        model(input_ids=enc.input_ids[:, :n_prompt], use_cache=False, logits_to_keep=1)
    logprobs = decode_residuals(model, torch.stack(rec.states))
    ranks = (logprobs > logprobs[:, target : target + 1]).sum(-1)
    top1 = [i for i, r in enumerate(ranks.tolist()) if r == 0]
    return {
        "id": task["id"],
        "target_token": tokenizer.convert_ids_to_tokens(target),
        "rank": ranks.tolist(),
        "logprob": logprobs[:, target].tolist(),
        "first_top1_layer": top1[0] if top1 else None,
    }


def lens_summary(model: Any, tokenizer: Any, tasks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per-layer median rank and mean log-prob of the gold's first token, and how often and where it
    becomes top-1."""
    rows = [r for r in (lens_for_task(model, tokenizer, t) for t in tasks) if r is not None]
    if not rows:
        return {"tasks": 0}
    ranks = torch.tensor([r["rank"] for r in rows], dtype=torch.float32)
    logprobs = torch.tensor([r["logprob"] for r in rows])
    emerged = [r["first_top1_layer"] for r in rows if r["first_top1_layer"] is not None]
    final_top1 = sum(r["rank"][-1] == 0 for r in rows)
    return {
        "tasks": len(rows),
        "median_rank": ranks.median(0).values.tolist(),
        "mean_log_rank": torch.log1p(ranks).mean(0).tolist(),
        "mean_logprob": logprobs.mean(0).tolist(),
        "final_top1_rate": final_top1 / len(rows),
        "first_top1_layer_mean": sum(emerged) / len(emerged) if emerged else None,
        "per_task": rows,
    }
