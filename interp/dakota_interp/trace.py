"""Reasoning traces: greedy generation in the model's own format, then which spans the answer rests on.

The prompt is the user turn alone (no answer prefix), rendered with the chat template and thinking enabled
where the template knows `enable_thinking` (Qwen3), so the model reasons in its own way before answering.
The answer tokens are those inside the last `<answer>…</answer>` of the generation (or, when the model
wrote no tag, its last few tokens). Their attributions (see `attribution`) over the prompt and the reasoning
are grouped into spans (see `spans`): the shares per span sum to 1 per example. The first position is left
out of the shares: it is the attention sink, which holds most of the rollout mass whatever the task (its
rollout mass is kept as `rollout_sink`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from dakota_interp import attribution, spans
from dakota_interp.ablation import reward
from dakota_interp.corpora import user_prompt
from dakota_interp.tokenization import is_byte_fragment

UNTAGGED_ANSWER_TOKENS = 3
"""Without an `<answer>` tag, the last this many generated tokens stand for the answer."""


def thinking_template(tokenizer: Any) -> bool:
    """Whether the chat template has a thinking switch (Qwen3's `enable_thinking`)."""
    return "enable_thinking" in str(getattr(tokenizer, "chat_template", "") or "")


def trace_prompt(tokenizer: Any, task: Mapping[str, Any]) -> str:
    """The chat-formatted user turn, ready for the assistant to reason and answer."""
    messages = [{"role": "user", "content": user_prompt(task)}]
    kwargs = {"enable_thinking": True} if thinking_template(tokenizer) else {}
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **kwargs)


def token_offsets(tokenizer: Any, ids: Sequence[int], start: int = 0) -> tuple[str, list[tuple[int, int]]]:
    """The decoded text of generated `ids` and each token's character span in it (plus `start`), from
    cumulative decoding (a byte fragment gets the span its character completes in)."""
    spans_out, prev = [], 0
    text = ""
    for i in range(len(ids)):
        text = tokenizer.decode(list(ids[: i + 1]), skip_special_tokens=False)
        cut = len(text.rstrip("\ufffd"))
        spans_out.append((start + min(prev, cut), start + cut))
        prev = max(prev, cut)
    return text, spans_out


def answer_positions(text: str, offsets: Sequence[tuple[int, int]], start: int) -> tuple[list[int], bool]:
    """Indices (into `offsets`) of the tokens inside the last `<answer>…</answer>` of `text` (offsets are
    shifted by `start`), and whether a tag was found."""
    open_at = text.rfind("<answer>")
    if open_at >= 0:
        close_at = text.find("</answer>", open_at)
        lo, hi = start + open_at + len("<answer>"), start + (close_at if close_at >= 0 else len(text))
        inside = [i for i, (s, e) in enumerate(offsets) if s < hi and e > lo and e > s]
        if inside:
            return inside, True
    content = [i for i, (s, e) in enumerate(offsets) if e > s]
    return content[-UNTAGGED_ANSWER_TOKENS:], False


@torch.no_grad()
def generate(model: Any, tokenizer: Any, prompt: str, max_new_tokens: int) -> list[int]:
    """Greedy continuation ids (without the prompt) up to an end token or `max_new_tokens`."""
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=max_new_tokens,
        do_sample=False,
        pad_token_id=pad,
    )
    gen = out[0, ids.shape[1] :].tolist()
    specials = set(tokenizer.all_special_ids)
    while gen and gen[-1] in specials:
        gen.pop()
    return gen


def trace_task(
    model: Any, tokenizer: Any, task: Mapping[str, Any], max_new_tokens: int = 64
) -> dict[str, Any]:
    """Generate on one task and attribute its answer: tokens, span labels,
    per-token shares and span shares."""
    prompt = trace_prompt(tokenizer, task)
    enc = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
    prompt_ids, prompt_offsets = enc["input_ids"], [tuple(o) for o in enc["offset_mapping"]]
    gen_ids = generate(model, tokenizer, prompt, max_new_tokens)
    gen_text, gen_offsets = token_offsets(tokenizer, gen_ids, len(prompt))
    answer_local, tagged = answer_positions(gen_text, gen_offsets, len(prompt))
    labels = spans.token_labels(prompt_offsets, spans.chat_labels(task, prompt, user_prompt(task)), prompt)
    labels += ["answer" if i in set(answer_local) else "reasoning" for i in range(len(gen_ids))]
    ids = torch.tensor([prompt_ids + gen_ids])
    row: dict[str, Any] = {
        "id": task["id"],
        "domain": spans.domain_of(task),
        "family": task["family"],
        "difficulty": task["difficulty"],
        "generation": gen_text,
        "answer_tagged": tagged,
        "reward": reward(task, gen_text),
        "prompt_tokens": len(prompt_ids),
    }
    if not answer_local:
        return {**row, "attributed": False}
    answer = [len(prompt_ids) + i for i in answer_local]
    scores = attribution.attribute(model, ids, answer)
    positions = torch.arange(ids.shape[1])
    sources = (positions < answer[0]) & (positions > 0)
    texts = [prompt[s:e] for s, e in prompt_offsets] + [
        gen_text[s - len(prompt) : e - len(prompt)] for s, e in gen_offsets
    ]
    row.update(
        attributed=True,
        tokens=texts,
        labels=labels,
        answer_positions=answer,
        fragments=[is_byte_fragment(tokenizer, i) for i in prompt_ids + gen_ids],
        answer_logprob=float(scores["answer_logprob"]),
        rollout_sink=float(scores["rollout"][0]),
    )
    for method, absolute in (("rollout", False), ("input_x_grad", True)):
        share = attribution.shares(scores[method], sources, absolute=absolute)
        row[method] = share.tolist()
        row[f"{method}_spans"] = spans.group(share.tolist(), labels)
    return row


def span_table(rows: Sequence[Mapping[str, Any]], method: str) -> dict[str, dict[str, list[float]]]:
    """Per domain, per span: (mean share, 95% bootstrap interval) over the attributed examples; spans an
    example lacks count as 0 for it."""
    out: dict[str, dict[str, list[float]]] = {}
    for domain in sorted({r["domain"] for r in rows}):
        mine = [r for r in rows if r["domain"] == domain and r.get("attributed")]
        names = sorted({k for r in mine for k in r[f"{method}_spans"]} - {"answer"})
        out[domain] = {
            name: list(attribution.bootstrap_mean_ci([r[f"{method}_spans"].get(name, 0.0) for r in mine]))
            for name in names
        }
    return out
