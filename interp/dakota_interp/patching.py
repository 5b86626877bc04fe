"""Activation patching on minimal pairs: two morphology tasks on the same stem whose gold answers differ in
one affix, with prompts of equal token length.

Both prompts are teacher-forced up to the first gold token where the answers diverge; the metric is the
logit difference `logit(clean token) − logit(corrupt token)` at that position. Patching copies one
activation from the clean run into the corrupt run; the normalised effect is
(patched − corrupt) / (clean − corrupt): 0 = no effect, 1 = restores the clean behaviour. Run in both
directions (each prompt as clean once) and averaged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import torch

from dakota_interp.ablation import ablate, head_input_grads
from dakota_interp.model import encode_with_gold, head_layout, layers


@dataclass
class Pair:
    """Two equal-length teacher-forced inputs and the token each should predict next."""

    ids: tuple[torch.Tensor, torch.Tensor] = field(repr=False)
    targets: tuple[int, int]
    task_ids: tuple[str, str]
    affixes: tuple[str, str]


def _affix_forms(task: Mapping[str, Any]) -> list[str]:
    return [a["form"] for a in task.get("meta", {}).get("affixes", [])]


def minimal_pairs(tokenizer: Any, tasks: Sequence[Mapping[str, Any]], limit: int = 8) -> list[Pair]:
    """Pairs of morphology tasks with the same stem and affix lists that differ in exactly one affix,
    whose inputs up to the first differing gold token have equal token length."""
    by_stem: dict[str, list[Mapping[str, Any]]] = {}
    for task in sorted(tasks, key=lambda t: t["id"]):
        if task["family"] == "morphology" and task.get("meta", {}).get("stem"):
            by_stem.setdefault(task["meta"]["stem"], []).append(task)
    pairs: list[Pair] = []
    for group in by_stem.values():
        for a, b in combinations(group, 2):
            fa, fb = _affix_forms(a), _affix_forms(b)
            differing = [(x, y) for x, y in zip(fa, fb, strict=False) if x != y]
            if len(fa) != len(fb) or len(differing) != 1 or a["answer"] == b["answer"]:
                continue
            pair = _align(tokenizer, a, b, differing[0])
            if pair is not None:
                pairs.append(pair)
            if len(pairs) >= limit:
                return pairs
    return pairs


def _align(
    tokenizer: Any, a: Mapping[str, Any], b: Mapping[str, Any], affixes: tuple[str, str]
) -> Pair | None:
    ea, eb = encode_with_gold(tokenizer, a), encode_with_gold(tokenizer, b)
    if ea is None or eb is None or ea[1] != eb[1]:
        return None
    (enc_a, n), (enc_b, _) = ea, eb
    ia, ib = enc_a.input_ids[0], enc_b.input_ids[0]
    cut = n
    while cut < min(len(ia), len(ib)) and ia[cut] == ib[cut]:
        cut += 1
    if cut >= min(len(ia), len(ib)):
        return None
    return Pair((ia[None, :cut], ib[None, :cut]), (int(ia[cut]), int(ib[cut])), (a["id"], b["id"]), affixes)


@torch.no_grad()
def logit_diff(model: Any, ids: torch.Tensor, targets: tuple[int, int]) -> float:
    """logit(targets[0]) − logit(targets[1]) at the last position."""
    logits = model(input_ids=ids, use_cache=False, logits_to_keep=1).logits[0, -1].float()
    return float(logits[targets[0]] - logits[targets[1]])


@torch.no_grad()
def _capture(model: Any, ids: torch.Tensor, register: Callable[[Any, list], Any]) -> list[torch.Tensor]:
    """Run `ids` once with `register(block, sink)` hooking every decoder block; return what the hooks kept."""
    captured: list[torch.Tensor] = []
    handles = [register(block, captured) for block in layers(model)]
    try:
        model(input_ids=ids, use_cache=False, logits_to_keep=1)
    finally:
        for handle in handles:
            handle.remove()
    return captured


def _layer_outputs(model: Any, ids: torch.Tensor) -> list[torch.Tensor]:
    return _capture(
        model,
        ids,
        lambda block, sink: block.register_forward_hook(
            lambda _m, _a, out: sink.append((out[0] if isinstance(out, tuple) else out).detach())
        ),
    )


def _head_inputs(model: Any, ids: torch.Tensor) -> list[torch.Tensor]:
    return _capture(
        model,
        ids,
        lambda block, sink: block.self_attn.o_proj.register_forward_pre_hook(
            lambda _m, args: sink.append(args[0].detach())
        ),
    )


@torch.no_grad()
def patch_residual(
    model: Any,
    clean: torch.Tensor,
    corrupt: torch.Tensor,
    targets: tuple[int, int],
    groups: Sequence[Sequence[int]],
) -> torch.Tensor:
    """Logit difference of the corrupt run with one layer's output at a group of positions taken from the
    clean run: [layers, len(groups)]."""
    cached = _layer_outputs(model, clean)
    blocks = layers(model)
    out = torch.zeros(len(blocks), len(groups))
    for layer, block in enumerate(blocks):
        for j, group in enumerate(groups):

            def hook(_m: Any, _a: Any, output: Any, layer: int = layer, group: tuple = tuple(group)) -> Any:
                hidden = (output[0] if isinstance(output, tuple) else output).clone()
                hidden[:, list(group)] = cached[layer][:, list(group)]
                return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

            handle = block.register_forward_hook(hook)
            try:
                out[layer, j] = logit_diff(model, corrupt, targets)
            finally:
                handle.remove()
    return out


@torch.no_grad()
def patch_heads(
    model: Any,
    clean: torch.Tensor,
    corrupt: torch.Tensor,
    targets: tuple[int, int],
    heads: Sequence[tuple[int, int]] | None = None,
) -> torch.Tensor:
    """Logit difference of the corrupt run with one head's output (all positions) from the clean run:
    [layers, heads]; only `heads` when given (the rest NaN)."""
    n_layers, n_heads, _, head_dim = head_layout(model)
    cached = _head_inputs(model, clean)
    out = torch.full((n_layers, n_heads), float("nan"))
    todo = heads if heads is not None else [(i, h) for i in range(n_layers) for h in range(n_heads)]
    for layer, head in todo:
        means = torch.zeros(n_layers, n_heads, clean.shape[1], head_dim)
        means[layer, head] = cached[layer][0, :, head * head_dim : (head + 1) * head_dim]
        with ablate(model, [(layer, head)], means):
            out[layer, head] = logit_diff(model, corrupt, targets)
    return out


def attribution_patch_heads(
    model: Any, clean: torch.Tensor, corrupt: torch.Tensor, targets: tuple[int, int]
) -> torch.Tensor:
    """First-order estimate of `patch_heads` for every head from one backward pass on the corrupt run:
    logit_diff(corrupt) + (z_clean − z_corrupt) · ∂logit_diff/∂z, per head: [layers, heads]."""
    n_layers, n_heads, _, head_dim = head_layout(model)
    clean_z = _head_inputs(model, clean)

    def metric(m: Any) -> torch.Tensor:
        logits = m(input_ids=corrupt, use_cache=False, logits_to_keep=1).logits[0, -1].float()
        return logits[targets[0]] - logits[targets[1]]

    zs, grads = head_input_grads(model, metric)
    base = logit_diff(model, corrupt, targets)
    out = torch.zeros(n_layers, n_heads)
    for layer in range(n_layers):
        delta = (clean_z[layer] - zs[layer]) * grads[layer]
        out[layer] = delta.view(*delta.shape[:-1], n_heads, head_dim).sum((0, 1, 3)) + base
    return out


def normalised(patched: torch.Tensor, clean: float, corrupt: float) -> torch.Tensor:
    """(patched − corrupt) / (clean − corrupt); 0 where the two runs do not differ."""
    gap = clean - corrupt
    return (patched - corrupt) / gap if abs(gap) > 1e-6 else torch.zeros_like(patched)


def patch_pair(model: Any, pair: Pair, exact_heads: int | None = None) -> dict[str, Any]:
    """Both directions of residual patching (the differing positions together, then the last position) and
    head patching,
    normalised and averaged. With `exact_heads`, heads are screened by attribution patching and only the
    `exact_heads` strongest are patched exactly."""
    a, b = pair.ids
    differ = (a[0] != b[0]).nonzero().flatten().tolist()
    groups = [differ, [a.shape[1] - 1]]
    resid, heads, screened, gaps = [], [], [], []
    for clean, corrupt, targets in ((a, b, pair.targets), (b, a, pair.targets[::-1])):
        c, k = logit_diff(model, clean, targets), logit_diff(model, corrupt, targets)
        resid.append(normalised(patch_residual(model, clean, corrupt, targets, groups), c, k))
        chosen = None
        if exact_heads is not None:
            estimate = normalised(attribution_patch_heads(model, clean, corrupt, targets), c, k)
            screened.append(estimate)
            n_heads = estimate.shape[1]
            chosen = [
                (int(i) // n_heads, int(i) % n_heads)
                for i in estimate.abs().flatten().topk(exact_heads).indices
            ]
        heads.append(normalised(patch_heads(model, clean, corrupt, targets, chosen), c, k))
        gaps.append(c - k)
    result = {
        "tasks": list(pair.task_ids),
        "affixes": list(pair.affixes),
        "differing_positions": differ,
        "residual_columns": ["differing positions", "last position"],
        "logit_gap": gaps,
        "residual": ((resid[0] + resid[1]) / 2).tolist(),
        "heads": torch.stack(heads).nanmean(0).tolist(),
    }
    if screened:
        result["heads_attribution"] = ((screened[0] + screened[1]) / 2).tolist()
    return result
