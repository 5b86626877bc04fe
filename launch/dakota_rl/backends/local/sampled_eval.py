"""Sampled evaluation: n completions per task at the training temperature, scored by the env, summarised by
`dakota_rl.diagnostics` (pass@k, best-of-k reward, reward spread). What on-policy RL has to work with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dakota_rl.backends.local.heldout import _decode, _eos_ids, prompt_messages, write_rows
from dakota_rl.diagnostics import sample_diagnostics
from dakota_rl.envs import EnvSpec

SEQUENCES_PER_CALL = 256
"""Sequences generated per `generate` call (prompts × samples)."""


def pass_ks(samples: int) -> list[int]:
    """The k reported for n samples: 1, 4, 16 where they fit, and n."""
    return sorted({k for k in (1, 4, 16) if k <= samples} | {samples})


def sample_rows(
    env: EnvSpec,
    tasks: list[dict[str, Any]],
    model: Any,
    tokenizer: Any,
    *,
    samples: int,
    temperature: float,
    max_tokens: int,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per task: `task_id`, `family`, and each sample's `completions`, `rewards`, `exact`."""
    import torch

    torch.manual_seed(seed)
    eos = _eos_ids(model, tokenizer)
    was_training, side = model.training, tokenizer.padding_side
    model.eval()
    tokenizer.padding_side = "left"
    per_call = max(1, SEQUENCES_PER_CALL // samples)
    rows: list[dict[str, Any]] = []
    try:
        for start in range(0, len(tasks), per_call):
            batch = tasks[start : start + per_call]
            texts = [
                tokenizer.apply_chat_template(
                    prompt_messages(env, t), tokenize=False, add_generation_prompt=True
                )
                for t in batch
            ]
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(
                model.device
            )
            with torch.no_grad():
                ids = model.generate(
                    **enc,
                    max_new_tokens=max_tokens,
                    do_sample=True,
                    temperature=temperature,
                    top_p=None,
                    top_k=None,
                    num_return_sequences=samples,
                    eos_token_id=eos,
                    pad_token_id=tokenizer.pad_token_id,
                )
            decoded = [
                _decode(r, eos, max_tokens, tokenizer) for r in ids[:, enc["input_ids"].shape[1] :].tolist()
            ]
            for i, task in enumerate(batch):
                rows.append(_task_row(env, task, decoded[i * samples : (i + 1) * samples]))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return rows


def generate_shared_prefix(model: Any, enc: Any, samples: int, **generate_kwargs: Any) -> Any:
    """`samples` continuations of each prompt, the prompt computed once: the prefix (all but the last prompt
    token) is run once per prompt and its KV cache repeated `samples` times, so `generate` only decodes.
    Returns the new token ids, one row per (prompt, sample), prompt-major (as `num_return_sequences`)."""
    import torch

    ids, mask = enc["input_ids"], enc["attention_mask"]
    with torch.no_grad():
        prefix = model(
            input_ids=ids[:, :-1],
            attention_mask=mask[:, :-1],
            position_ids=(mask[:, :-1].cumsum(-1) - 1).clamp(min=0),
            use_cache=True,
        )
        cache = prefix.past_key_values
        cache.batch_repeat_interleave(samples)
        out = model.generate(
            input_ids=ids.repeat_interleave(samples, dim=0),
            attention_mask=mask.repeat_interleave(samples, dim=0),
            past_key_values=cache,
            **generate_kwargs,
        )
    return out[:, ids.shape[1] :]


def _task_row(env: EnvSpec, task: dict[str, Any], outs: list[tuple[str, bool]]) -> dict[str, Any]:
    scores = [env.score(text, task, truncated) for text, truncated in outs]
    return {
        "task_id": task.get("id"),
        "family": task.get("family", task.get("tier")),
        "completions": [text for text, _ in outs],
        "rewards": [float(s.total) for s in scores],
        "exact": [bool(s.exact) for s in scores],
    }


def run_sampled(
    env: EnvSpec,
    tasks: list[dict[str, Any]],
    model: Any,
    tokenizer: Any,
    out: Path,
    *,
    samples: int,
    temperature: float,
    max_tokens: int,
    seed: int = 0,
) -> dict[str, float]:
    """Sample, write the rows to `out` (JSONL), return the diagnostics."""
    rows = sample_rows(
        env,
        tasks,
        model,
        tokenizer,
        samples=samples,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
    )
    write_rows(rows, out)
    return sample_diagnostics(rows, pass_ks(samples))
