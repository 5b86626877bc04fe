"""Benchmark: scorings per second and train tasks generated per second, on a realistic mix of completions.

python -m letter_counting.bench_scorer_and_generator [--n 20000]
"""

from __future__ import annotations

import argparse
import json
import time

from tqdm import tqdm

from letter_counting.generate import load_eval_tasks, train_task
from letter_counting.rewards import score


def completions_for(task: dict) -> list[str]:
    """Right, wrong, thinking-wrapped and malformed answers to `task`."""
    counts = task["counts"]
    answer = str(next(iter(counts.values()))) if len(counts) == 1 else json.dumps(counts)
    wrong = str(len(task["text"]) + 1) if len(counts) == 1 else json.dumps(dict.fromkeys(counts, 1))
    spelled = " ".join(task["text"])
    return [
        f"<answer>{answer}</answer>",
        f"<think>Spell it out: {spelled}. Now count.</think>\n<answer>{answer}</answer>",
        f"<answer>{wrong}</answer>",
        f"I think it is {answer}.",
        f"<answer>{answer}</answer><answer>{wrong}</answer>",
    ]


ADVERSARIAL = [
    "<answer>" * 20_000,
    "<answer>{" * 20_000,
    "</think>" * 20_000 + "<answer>3</answer>",
    "<think>" * 20_000,
    "x" * 1_000_000 + "<answer>3</answer>",
    "<answer>" + "[" * 50_000 + "</answer>",
]
"""Long, tag-heavy completions (100 KB - 1 MB) that a careless parser handles in quadratic time."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m letter_counting.bench_scorer_and_generator", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=20_000, help="scorings to time (default 20000)")
    args = parser.parse_args(argv)
    pairs = [(t, c) for t in load_eval_tasks() for c in completions_for(t)]
    work = [pairs[i % len(pairs)] for i in range(args.n)]
    start = time.perf_counter()
    for task, completion in tqdm(work, desc="scoring", unit="score", mininterval=1.0):
        score(completion, task, "partial")
    scoring_s = time.perf_counter() - start
    n_gen = max(1, args.n // 10)
    train_task(0, 0, 1)
    start = time.perf_counter()
    for i in tqdm(range(n_gen), desc="generating", unit="task", mininterval=1.0):
        train_task(0, i, 1 + i % 10)
    gen_s = time.perf_counter() - start
    multi = {"counts": {"a": 1, "b": 0}, "tier": 2}
    start = time.perf_counter()
    for completion in ADVERSARIAL:
        score(completion, multi, "partial")
    worst_ms = (time.perf_counter() - start) / len(ADVERSARIAL) * 1000
    print(f"scorings/s: {args.n / scoring_s:,.0f} ({args.n} scorings over all ten tiers, 5 completion kinds)")
    print(f"adversarial 0.1-1 MB completions: {worst_ms:.1f} ms per scoring (mean of {len(ADVERSARIAL)})")
    print(f"train tasks/s: {n_gen / gen_s:,.0f} ({n_gen} tasks, tiers 1-10 in turn)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
