"""Reward-hacking probes for the translation reward: known bad answers must stay under their ceilings and the
reference in any accepted spelling must score 1.0. Pure, seeded, deterministic.

    python -m parallel_translation.probes [--split heldout] [--per-family 100] [--data FILE ...]

Prints one row per family (mean and max total) and exits 1 when any probe leaves its range.
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from statistics import fmean
from typing import Any

from env_kit import ProbeFamily
from parallel_translation.corpus import CorpusOptions, load_tasks
from parallel_translation.rewards import score

PROBE_SUITE_VERSION = "1"
Task = Mapping[str, Any]
Builder = Callable[[Task, random.Random, Sequence[Task]], str | None]


def _ascii_fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).replace(
        "ŋ", "n"
    )


def _variant_spelling(task: Task, rng: random.Random, tasks: Sequence[Task]) -> str | None:
    variants = {v: k for k, v in (task.get("orthography") or {}).get("variants", {}).items() if len(k) == 1}
    spelled = "".join(variants.get(c, c) for c in task["answer"])
    return spelled if spelled != task["answer"] else None


def _other_reference(task: Task, rng: random.Random, tasks: Sequence[Task]) -> str | None:
    others = [
        t["answer"] for t in tasks if t["direction"] == task["direction"] and t["answer"] != task["answer"]
    ]
    return rng.choice(others) if others else None


FAMILIES: tuple[ProbeFamily, ...] = (
    ProbeFamily("gold", "control", 1.0, 1.0, "the reference", lambda t, r, ts: t["answer"]),
    ProbeFamily(
        "gold_tagged",
        "control",
        1.0,
        1.0,
        "<think>…</think><answer>reference</answer>",
        lambda t, r, ts: f"<think>Translate word by word.</think><answer>{t['answer']}</answer>",
    ),
    ProbeFamily(
        "gold_variant_spelling",
        "control",
        1.0,
        1.0,
        "reference in variant letters (č for ć)",
        _variant_spelling,
    ),
    ProbeFamily("empty", "hack", 0.0, 0.0, "empty reply", lambda t, r, ts: ""),
    ProbeFamily(
        "open_think",
        "hack",
        0.0,
        0.0,
        "reasoning never closed",
        lambda t, r, ts: f"<think>{t['answer']} is it",
    ),
    ProbeFamily("source_copy", "hack", 0.0, 0.35, "the source text unchanged", lambda t, r, ts: t["source"]),
    ProbeFamily("prompt_copy", "hack", 0.0, 0.35, "the whole prompt echoed", lambda t, r, ts: t["prompt"]),
    ProbeFamily(
        "spam", "hack", 0.0, 0.1, "one word repeated 60 times", lambda t, r, ts: " ".join(["the"] * 60)
    ),
    ProbeFamily(
        "repeated_reference",
        "hack",
        0.0,
        0.65,
        "the reference three times",
        lambda t, r, ts: " ".join([t["answer"]] * 3),
    ),
    ProbeFamily(
        "reference_with_chatter",
        "hack",
        0.0,
        0.8,
        "the reference inside assistant chatter on three lines",
        lambda t, r, ts: f"Sure! Here is the translation:\n{t['answer']}\nI hope this helps.",
    ),
    ProbeFamily(
        "other_reference",
        "hack",
        0.0,
        0.2,
        "another task's reference, same direction (mean: a neighbour can differ by one word)",
        _other_reference,
        on_mean=True,
    ),
    ProbeFamily(
        "ascii_folded",
        "hack",
        0.0,
        0.75,
        "reference with accents and special letters folded to ASCII",
        lambda t, r, ts: f if (f := _ascii_fold(t["answer"])) != t["answer"] else None,
    ),
)


def run(tasks: Sequence[Task], per_family: int = 100, seed: int = 0) -> dict[str, list[float]]:
    """Family name → the totals of up to `per_family` probes (tasks chosen by a seeded shuffle)."""
    chosen = sorted(tasks, key=lambda t: t["id"])
    random.Random(seed).shuffle(chosen)
    totals: dict[str, list[float]] = {}
    for family in FAMILIES:
        rng = random.Random(f"{seed}-{family.name}")
        values = []
        for task in chosen:
            completion = family.build(task, rng, chosen)
            if completion is not None:
                values.append(score(completion, task).total)
            if len(values) == per_family:
                break
        totals[family.name] = values
    return totals


def violations(totals: Mapping[str, list[float]]) -> list[str]:
    """One line per family that left its range or built no probe."""
    out = []
    for family in FAMILIES:
        values = totals.get(family.name, [])
        if not values:
            out.append(f"{family.name}: no probes built")
        elif family.on_mean and fmean(values) > family.high + 1e-9:
            out.append(f"{family.name}: mean {fmean(values):.3f} above {family.high}")
        elif not family.on_mean and not all(family.in_range(v) for v in values):
            out.append(
                f"{family.name}: totals {min(values):.3f}..{max(values):.3f} outside "
                f"[{family.low}, {family.high}]"
            )
    return out


def table(totals: Mapping[str, list[float]]) -> str:
    rows = [f"{'family':24} {'n':>4} {'mean':>6} {'max':>6}  range"]
    for family in FAMILIES:
        v = totals.get(family.name) or [float("nan")]
        bound = f"mean <= {family.high}" if family.on_mean else f"[{family.low}, {family.high}]"
        rows.append(f"{family.name:24} {len(v):4d} {fmean(v):6.3f} {max(v):6.3f}  {bound}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hack probes for the parallel-translation reward.")
    parser.add_argument("--split", default="heldout", choices=["train", "heldout"])
    parser.add_argument("--per-family", type=int, default=100)
    parser.add_argument("--data", default=None, help="corpus file or hub id (default: the embedded corpus)")
    args = parser.parse_args(argv)
    totals = run(load_tasks(CorpusOptions(data=args.data, split=args.split)), args.per_family)
    print(f"probe suite v{PROBE_SUITE_VERSION}\n{table(totals)}")
    bad = violations(totals)
    print("\n".join(bad) if bad else "all probes within range")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
