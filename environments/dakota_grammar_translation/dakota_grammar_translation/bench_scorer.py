"""Benchmark the scorer on realistic completions: scorings per second on one core and latency percentiles.

    python -m dakota_grammar_translation.bench_scorer [--split train] [--n 20000] [--tasks 500]

Completions mix the shapes a policy produces during training: reasoning in <think>, an answer tag with
the gold, a near miss or a wrong form, untagged answers, long rambles, and answer tags holding up to
2 KB of prose (completions of about 100 B to 3 KB). The
gold-side cache is warmed first, as it is after the first group of a training step.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence

from dakota_grammar_translation.rewards import score
from dakota_grammar_translation.tasks import SPLITS, TaskRecord, load_tasks

_REASONING = (
    "The task gives the stem and asks for the person and number. Riggs puts the pronoun of the first "
    "person before the stem unless the verb takes it inside, and the plural adds pi at the end. "
)


def _completion(task: TaskRecord, rng: random.Random) -> str:
    gold = task["answer"]
    near = gold[:-1] if len(gold) > 2 else gold + "a"
    think = _REASONING * rng.randint(1, 8)
    return rng.choice(
        [
            f"<think>{think}</think>\n<answer>{gold}</answer>",
            f"<think>{think}</think>\n<answer>{near}</answer>",
            f"<think>{think}</think>\nThe answer is {near}.",
            f"<answer>{gold.upper()}</answer>",
            f"{think}{think}<answer>{near} {gold}</answer>",
            f"<think>{think}",
            f"<answer>{(think + near + ' ')[:2000]}</answer>",
        ]
    )


def run(tasks: Sequence[TaskRecord], n: int, seed: int = 0) -> dict[str, float]:
    """Score `n` completions one at a time; return throughput and latency figures."""
    rng = random.Random(seed)
    cases = [(task, _completion(task, rng)) for task in (rng.choice(tasks) for _ in range(n))]
    for task, completion in cases[: min(n, 2000)]:
        score(completion, task)
    wall, cpu = [], []
    wall_start, cpu_start = time.perf_counter(), time.thread_time()
    for task, completion in cases:
        w0, c0 = time.perf_counter(), time.thread_time_ns()
        score(completion, task)
        cpu.append((time.thread_time_ns() - c0) / 1e6)
        wall.append((time.perf_counter() - w0) * 1e3)
    wall_s, cpu_s = time.perf_counter() - wall_start, time.thread_time() - cpu_start
    wall.sort()
    cpu.sort()
    sizes = sorted(len(c.encode()) for _, c in cases)
    return {
        "scorings_per_cpu_s": n / cpu_s,
        "scorings_per_wall_s": n / wall_s,
        "cpu_p50_ms": cpu[n // 2],
        "cpu_p99_ms": cpu[int(n * 0.99)],
        "wall_p50_ms": wall[n // 2],
        "wall_p99_ms": wall[int(n * 0.99)],
        "wall_max_ms": wall[-1],
        "mean_bytes": statistics.fmean(sizes),
        "max_bytes": sizes[-1],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=SPLITS, default="train")
    parser.add_argument("--n", type=int, default=20_000, help="completions to score")
    parser.add_argument("--tasks", type=int, default=500, help="distinct tasks to draw from")
    args = parser.parse_args(argv)
    tasks = load_tasks(args.split)[: args.tasks]
    r = run(tasks, args.n)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"scored {args.n} completions ({r['mean_bytes']:.0f} B mean, {r['max_bytes']} B max), one thread")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load:.2f} (wall figures include time waiting for a "
        "core)"
    )
    print(
        f"throughput: {r['scorings_per_cpu_s']:,.0f} scorings per CPU-second, "
        f"{r['scorings_per_wall_s']:,.0f} per wall second"
    )
    print(f"CPU time per scoring: p50 {r['cpu_p50_ms']:.3f} ms, p99 {r['cpu_p99_ms']:.3f} ms")
    print(
        f"wall time per scoring: p50 {r['wall_p50_ms']:.3f} ms, p99 {r['wall_p99_ms']:.3f} ms, max "
        f"{r['wall_max_ms']:.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
