"""Ranked pairs for the learned reward model. Pure and seeded.

`corrupted_pairs`: the reference ≻ a corrupted reference (words dropped, shuffled, repeated, accents and
special letters folded to ASCII, or another task's reference): the answer is knowable, so a reward model
that learns anything beats chance on held-out pairs. `sample_pairs`: the reference ≻ a model sample, and a
sample ≻ a worse one when their chrF++ differs by at least `margin`.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from parallel_translation.rewards import chrf_plus_plus

Task = Mapping[str, Any]
Pair = dict[str, Any]


def ascii_fold(text: str) -> str:
    """Accents and special letters folded to ASCII (ś → s, ŋ → n)."""
    folded = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return folded.replace("ŋ", "n").replace("Ŋ", "N").replace("ʼ", "'")


def _drop_word(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) > 1:
        del words[rng.randrange(len(words))]
        return " ".join(words)
    return text[: max(1, len(text) // 2)]


def _shuffle_words(text: str, rng: random.Random) -> str:
    words = text.split()
    rng.shuffle(words)
    return " ".join(words)


CORRUPTIONS: dict[str, Callable[[str, random.Random, Sequence[Task]], str]] = {
    "drop_word": lambda t, rng, tasks: _drop_word(t, rng),
    "shuffle_words": lambda t, rng, tasks: _shuffle_words(t, rng),
    "repeat": lambda t, rng, tasks: f"{t} {t}",
    "ascii_fold": lambda t, rng, tasks: ascii_fold(t),
    "other_reference": lambda t, rng, tasks: rng.choice(tasks)["answer"],
}


def prompt_of(task: Task, system_prompt: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": task["prompt"]}]


def pair(task: Task, system_prompt: str, chosen: str, rejected: str, kind: str) -> Pair:
    """One conversational preference row as TRL's RewardTrainer reads it (plus the kind, for reports)."""
    return {
        "prompt": prompt_of(task, system_prompt),
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "kind": kind,
    }


def corrupted_pairs(
    tasks: Sequence[Task], system_prompt: str, kinds: Sequence[str] = tuple(CORRUPTIONS), seed: int = 0
) -> list[Pair]:
    """One pair per task: the reference ≻ a corruption of a kind drawn (seeded) from `kinds`; a corruption
    that leaves the text unchanged is skipped."""
    unknown = set(kinds) - set(CORRUPTIONS)
    if unknown:
        raise ValueError(f"unknown corruption(s) {sorted(unknown)}; choose from {sorted(CORRUPTIONS)}")
    rng = random.Random(seed)
    out = []
    for task in tasks:
        kind = rng.choice(list(kinds))
        rejected = CORRUPTIONS[kind](task["answer"], rng, tasks)
        if rejected.strip() and rejected != task["answer"]:
            out.append(pair(task, system_prompt, task["answer"], rejected, kind))
    return out


def sample_pairs(task: Task, samples: Sequence[str], system_prompt: str, margin: float = 0.2) -> list[Pair]:
    """The reference ≻ each sample that is not exact; sample ≻ sample where chrF++ differs by >= `margin`."""
    refs = [task["answer"], *(task.get("alternatives") or [])]
    scored = sorted(((chrf_plus_plus(s, refs), s) for s in set(samples) if s.strip()), reverse=True)
    out = [pair(task, system_prompt, task["answer"], s, "sample") for c, s in scored if c < 1.0]
    for i, (hi, better) in enumerate(scored):
        out += [
            pair(task, system_prompt, better, worse, "sample_rank")
            for lo, worse in scored[i + 1 :]
            if hi - lo >= margin
        ]
    return out
