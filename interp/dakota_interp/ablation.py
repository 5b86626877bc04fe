"""Head ablation: replace one query head's output (the slice of `o_proj`'s input that belongs to it) with
zeros or with its mean over a reference set, and measure what the model loses.

The slice is taken before `o_proj`, so it is per query head and safe with grouped-query attention. Two
measures: a cheap teacher-forced proxy for every head (change in the gold answer's log-probability) and,
for a few chosen heads, greedy generation scored with the environment's own reward (Dakota:
`dakota_grammar_translation.rewards.score(...).total`; math: exact match).

On models too large to ablate every head one by one on a CPU, `attribution_scan` screens all heads with
one forward and backward pass (attribution patching: Δ ≈ (replacement − z) · ∂metric/∂z, Syed et al. 2023)
and `proxy_scan(heads=...)` confirms the top candidates exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from dakota_interp.math_tasks import score_math
from dakota_interp.model import ANSWER_PREFIX, chat_text, encode_with_gold, head_layout, layers

Head = tuple[int, int]


@contextmanager
def ablate(model: Any, heads: Iterable[Head], means: torch.Tensor | None = None):
    """Within the block, each (layer, head) in `heads` outputs zeros, or `means[layer, head]` when given."""
    _, _, _, head_dim = head_layout(model)
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, []).append(head)

    def pre_hook(layer: int):
        def hook(_module: Any, args: tuple) -> tuple:
            z = args[0].clone()
            for head in by_layer[layer]:
                cut = slice(head * head_dim, (head + 1) * head_dim)
                z[..., cut] = 0.0 if means is None else means[layer, head].to(z.dtype)
            return (z, *args[1:])

        return hook

    blocks = layers(model)
    handles = [blocks[i].self_attn.o_proj.register_forward_pre_hook(pre_hook(i)) for i in by_layer]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def head_means(model: Any, batch: GoldBatch) -> torch.Tensor:
    """Mean output of every head over all real (non-padding) tokens of `batch`: [layers, heads, head_dim]."""
    n_layers, n_heads, _, head_dim = head_layout(model)
    sums = torch.zeros(n_layers, n_heads * head_dim)
    real = batch.real.unsqueeze(-1).float()

    def pre_hook(layer: int):
        def hook(_module: Any, args: tuple) -> None:
            sums[layer] += (args[0].float() * real).sum((0, 1))

        return hook

    handles = [b.self_attn.o_proj.register_forward_pre_hook(pre_hook(i)) for i, b in enumerate(layers(model))]
    try:
        model(input_ids=batch.input_ids, use_cache=False, logits_to_keep=1)
    finally:
        for handle in handles:
            handle.remove()
    return (sums / real.sum()).view(n_layers, n_heads, head_dim)


class GoldBatch:
    """Prompts + gold answers, right-padded into one batch (causal attention never looks right, so padding
    needs no mask); `gold` marks the positions whose next token is a gold token."""

    def __init__(self, tokenizer: Any, tasks: Sequence[Mapping[str, Any]]):
        rows = [(t, e) for t in tasks if (e := encode_with_gold(tokenizer, t)) is not None]
        if not rows:
            raise ValueError("no task could be encoded with its gold answer")
        self.tasks = [t for t, _ in rows]
        width = max(enc.input_ids.shape[1] for _, (enc, _) in rows)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        self.real = torch.zeros(len(rows), width, dtype=torch.bool)
        self.gold = torch.zeros(len(rows), width, dtype=torch.bool)
        for i, (_, (enc, n_prompt)) in enumerate(rows):
            n = enc.input_ids.shape[1]
            self.input_ids[i, :n] = enc.input_ids[0]
            self.real[i, :n] = True
            self.gold[i, n_prompt - 1 : n - 1] = True


def gold_logprob(model: Any, batch: GoldBatch) -> torch.Tensor:
    """Teacher-forced log-probability of each task's gold answer, per token averaged: [tasks]
    (the unembedding runs on the gold positions only)."""
    hidden = model.model(input_ids=batch.input_ids, use_cache=False).last_hidden_state
    rows = batch.gold.nonzero()[:, 0]
    targets = batch.input_ids.roll(-1, dims=1)[batch.gold]
    logits = model.lm_head(hidden[batch.gold])
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    logp = torch.log_softmax(logits, -1).gather(-1, targets[:, None])[:, 0]
    count = torch.zeros(len(batch.tasks), dtype=logp.dtype).index_add_(0, rows, torch.ones_like(logp))
    return torch.zeros(len(batch.tasks), dtype=logp.dtype).index_add_(0, rows, logp) / count


@torch.no_grad()
def proxy_scan(
    model: Any,
    batch: GoldBatch,
    means: torch.Tensor | None = None,
    heads: Iterable[Head] | None = None,
    progress: bool = True,
) -> torch.Tensor:
    """Mean change in gold log-probability when each head alone is ablated: [layers, heads]
    (negative = the head helps). Only `heads` are measured when given (the rest stay NaN)."""
    from tqdm import tqdm

    n_layers, n_heads, _, _ = head_layout(model)
    base = gold_logprob(model, batch)
    out = torch.full((n_layers, n_heads), float("nan"))
    todo = list(heads) if heads is not None else [(i, h) for i in range(n_layers) for h in range(n_heads)]
    for layer, head in tqdm(todo, desc="ablating heads", disable=not progress, leave=False):
        with ablate(model, [(layer, head)], means):
            out[layer, head] = (gold_logprob(model, batch) - base).mean()
    return out


def head_input_grads(model: Any, run: Any) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Every layer's o_proj input (the heads' outputs) and the total gradient of the scalar `run(model)`
    with respect to it (the model's parameters must require grad, as they do after loading)."""
    zs: list[torch.Tensor] = []

    def keep(_module: Any, args: tuple) -> None:
        zs.append(args[0])  # kept in the graph: the gradient includes paths through later heads

    handles = [b.self_attn.o_proj.register_forward_pre_hook(keep) for b in layers(model)]
    try:
        with torch.enable_grad():
            metric = run(model)
            grads = torch.autograd.grad(metric, zs)
    finally:
        for handle in handles:
            handle.remove()
    return [z.detach() for z in zs], [g.detach() for g in grads]


def attribution_scan(model: Any, batch: GoldBatch, means: torch.Tensor | None = None) -> torch.Tensor:
    """First-order estimate of `proxy_scan` for every head from one forward and backward pass:
    [layers, heads]."""
    n_layers, n_heads, _, head_dim = head_layout(model)
    zs, grads = head_input_grads(model, lambda m: gold_logprob(m, batch).mean())
    out = torch.zeros(n_layers, n_heads)
    real = batch.real[..., None].to(zs[0].dtype)
    for layer, (z, g) in enumerate(zip(zs, grads, strict=True)):
        z = z.view(*z.shape[:-1], n_heads, head_dim)
        g = g.view(*g.shape[:-1], n_heads, head_dim)
        target = torch.zeros_like(z) if means is None else means[layer].to(z.dtype).expand_as(z)
        out[layer] = ((target - z) * g).sum(-1).mul(real).sum((0, 1))
    return out


def reward(task: Mapping[str, Any], completion: str) -> float:
    """The environment's reward for a completion: Dakota total score, or math exact match."""
    if task["id"].startswith("math-"):
        return score_math(completion, task)
    from dakota_grammar_translation.rewards import score

    return float(score(completion, task).total)


@torch.no_grad()
def generate_answers(
    model: Any, tokenizer: Any, tasks: Sequence[Mapping[str, Any]], max_new_tokens: int = 24
) -> list[str]:
    """Greedy completions after the answer prefix, returned as `<answer>…</answer>` (the first line of
    what the model wrote, up to its closing tag)."""
    texts = [chat_text(tokenizer, t) for t in tasks]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = side
    out = model.generate(
        **enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
    )
    raw = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    return [f"{ANSWER_PREFIX}{r.split('</answer>')[0].split(chr(10))[0].strip()}</answer>" for r in raw]


def mean_reward(
    model: Any,
    tokenizer: Any,
    tasks: Sequence[Mapping[str, Any]],
    heads: Iterable[Head] = (),
    means: torch.Tensor | None = None,
) -> tuple[float, list[float]]:
    """Mean reward of greedy answers with `heads` ablated (none: the intact model), and the per-task list."""
    with ablate(model, list(heads), means):
        answers = generate_answers(model, tokenizer, tasks)
    scores = [reward(t, a) for t, a in zip(tasks, answers, strict=True)]
    return sum(scores) / len(scores), scores


def bootstrap_ci(deltas: Sequence[float], n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the mean of paired per-task differences."""
    x = torch.tensor(deltas, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    means = x[torch.randint(len(x), (n, len(x)), generator=gen)].mean(-1)
    return float(means.quantile(0.025)), float(means.quantile(0.975))


def dissociation(dakota: torch.Tensor, math: torch.Tensor, k: int = 5) -> dict[str, list[dict]]:
    """Heads that matter for one domain and not the other. A head's importance in a domain is how much
    ablating it lowers the gold log-prob (max(0, −effect)), scaled by the domain's largest importance so the
    domains are comparable; heads are ranked by the difference, and only positive differences are listed."""

    def importance(effect: torch.Tensor) -> torch.Tensor:
        harm = (-effect.nan_to_num(0.0)).clamp_min(0.0)
        return harm / harm.max().clamp_min(1e-12)

    a, b = importance(dakota), importance(math)
    n_heads = dakota.shape[1]

    def top(diff: torch.Tensor) -> list[dict]:
        values, indices = diff.flatten().topk(min(k, diff.numel()))
        return [
            {
                "layer": i // n_heads,
                "head": i % n_heads,
                "dakota": float(dakota.flatten()[i]),
                "math": float(math.flatten()[i]),
            }
            for v, i in zip(values.tolist(), indices.tolist(), strict=True)
            if v > 0
        ]

    return {"dakota_not_math": top(a - b), "math_not_dakota": top(b - a)}
