"""Base vs trained checkpoint of the same architecture: where the weights moved and how much the
representations changed.

- Weight change per query head: ‖ΔW‖_F / ‖W‖_F over the head's rows of q_proj plus its columns of o_proj;
  per key/value group over k_proj/v_proj rows; per layer for the MLP. `changed_fraction` is the share of
  entries that differ at all in the saved dtype (RL updates are often sparse).
- Linear CKA per layer (Kornblith et al. 2019) between the two models' residual streams on the same
  prompts: 1 = the same representation up to rotation and scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from dakota_interp.model import Encoded, head_layout, layers
from dakota_rl.errors import UserError


def _rel(delta: Sequence[torch.Tensor], base: Sequence[torch.Tensor]) -> float:
    num = sum(float(d.float().pow(2).sum()) for d in delta)
    den = sum(float(b.float().pow(2).sum()) for b in base)
    return (num / den) ** 0.5 if den > 0 else 0.0


def check_same_architecture(base: Any, other: Any) -> None:
    """Raise a one-line error when the two models' parameter names or shapes differ."""
    a = {k: tuple(v.shape) for k, v in base.state_dict().items()}
    b = {k: tuple(v.shape) for k, v in other.state_dict().items()}
    if a != b:
        diff = sorted(set(a.items()) ^ set(b.items()))[:3]
        raise UserError(f"checkpoints differ in architecture (first differences: {diff})")


@torch.no_grad()
def weight_changes(base: Any, other: Any) -> dict[str, Any]:
    """Relative weight change per query head, per KV group, per layer MLP;
    changed-entry fraction per layer."""
    check_same_architecture(base, other)
    n_layers, n_heads, n_kv, head_dim = head_layout(base)
    heads = torch.zeros(n_layers, n_heads)
    kv = torch.zeros(n_layers, n_kv)
    mlp, changed = torch.zeros(n_layers), torch.zeros(n_layers)
    for i, (la, lb) in enumerate(zip(layers(base), layers(other), strict=True)):
        qa, qb = la.self_attn.q_proj.weight, lb.self_attn.q_proj.weight
        oa, ob = la.self_attn.o_proj.weight, lb.self_attn.o_proj.weight
        for h in range(n_heads):
            rows = slice(h * head_dim, (h + 1) * head_dim)
            heads[i, h] = _rel([qb[rows] - qa[rows], ob[:, rows] - oa[:, rows]], [qa[rows], oa[:, rows]])
        for g in range(n_kv):
            rows = slice(g * head_dim, (g + 1) * head_dim)
            ka, kb = la.self_attn.k_proj.weight[rows], lb.self_attn.k_proj.weight[rows]
            va, vb = la.self_attn.v_proj.weight[rows], lb.self_attn.v_proj.weight[rows]
            kv[i, g] = _rel([kb - ka, vb - va], [ka, va])
        pa, pb = list(la.mlp.parameters()), list(lb.mlp.parameters())
        mlp[i] = _rel([b - a for a, b in zip(pa, pb, strict=True)], pa)
        params = list(zip(la.parameters(), lb.parameters(), strict=True))
        changed[i] = sum(int((a != b).sum()) for a, b in params) / sum(a.numel() for a, _ in params)
    return {
        "head_rel_change": heads.tolist(),
        "kv_group_rel_change": kv.tolist(),
        "mlp_rel_change": mlp.tolist(),
        "changed_fraction": changed.tolist(),
    }


def linear_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Linear CKA of two [samples, features] matrices (features may differ in number)."""
    x = x.double() - x.double().mean(0)
    y = y.double() - y.double().mean(0)
    hsic = (y.T @ x).pow(2).sum()
    norm = (x.T @ x).pow(2).sum().sqrt() * (y.T @ y).pow(2).sum().sqrt()
    return float(hsic / norm) if norm > 0 else 0.0


@torch.no_grad()
def residuals(model: Any, encoded: Sequence[Encoded]) -> list[torch.Tensor]:
    """Per layer (embeddings first) the residual stream of every token of every prompt: [tokens, hidden]."""
    per_layer: list[list[torch.Tensor]] = []
    for enc in encoded:
        states = model(
            input_ids=enc.input_ids, output_hidden_states=True, use_cache=False, logits_to_keep=1
        ).hidden_states
        for i, h in enumerate(states):
            if len(per_layer) <= i:
                per_layer.append([])
            per_layer[i].append(h[0].float())
    return [torch.cat(x) for x in per_layer]


def cka_per_layer(base: Any, other: Any, encoded: Sequence[Encoded]) -> list[float]:
    """Linear CKA between the two models' residual streams, per layer (index 0 = embeddings)."""
    return [
        linear_cka(a, b) for a, b in zip(residuals(base, encoded), residuals(other, encoded), strict=True)
    ]
