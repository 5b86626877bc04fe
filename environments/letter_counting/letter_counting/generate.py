"""Seeded letter-counting tasks in ten tiers, and the frozen eval sets.

Tiers 1–5 count letters in English words (the public-domain `web2` list shipped by the PyPI package
`english-words`), tiers 6–10 in random lowercase strings; each tier fixes the text length and how many
letters are asked for (`TIERS`, ported from Atropos via picoRL). Target letters are drawn with a
present-bias, so letters that do not occur (count 0) are a regular share of the targets.

Every task comes from its own `random.Random`, seeded by a hash of (split, seed, index), so a task is
reproducible on its own. Eval and train never overlap: the word list is split by a hash of each word
(about 10 % of the words are eval-only), and train rejects any text that occurs in the frozen eval sets.

    python -m letter_counting.generate --freeze    # rewrite data/eval_tier*.jsonl + manifest.json
    python -m letter_counting.generate --check     # exit 1 if a rebuild differs from the committed files
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import random
import string
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
MANIFEST = DATA_DIR / "manifest.json"
EVAL_TASKS_PER_TIER = 200
EVAL_SEED = 20_260_227
EVAL_WORD_SHARE = 26
"""A word is eval-only when the first byte of its sha256 is below this (26/256 ≈ 10 %)."""
WORD_LIST = "english-words 2.0.2, list web2 (Webster's Second International, public domain), lower-case a-z"
ALPHABET = string.ascii_lowercase

SYSTEM_PROMPT = (
    "You are a helpful assistant. Think step by step, then give your answer.\n"
    "Always wrap your final answer in <answer> tags."
)


@dataclass(frozen=True)
class Tier:
    """How one difficulty tier draws its text and its target letters."""

    level: int
    source: str
    """"word" (English word) or "random" (uniform lowercase string)."""
    min_chars: int
    max_chars: int
    multi_probability: float
    """Probability of asking for several letters at once."""
    min_letters: int
    max_letters: int
    """Letter count range of a multi-letter task; a single-letter task asks for one."""


TIERS: dict[int, Tier] = {
    t.level: t
    for t in (
        Tier(1, "word", 3, 8, 0.0, 1, 1),
        Tier(2, "word", 5, 12, 0.5, 2, 2),
        Tier(3, "word", 8, 18, 0.6, 2, 3),
        Tier(4, "word", 10, 25, 0.8, 3, 5),
        Tier(5, "word", 15, 35, 0.9, 5, 8),
        Tier(6, "random", 40, 80, 1.0, 8, 12),
        Tier(7, "random", 80, 150, 1.0, 12, 20),
        Tier(8, "random", 150, 250, 1.0, 18, 30),
        Tier(9, "random", 250, 400, 1.0, 25, 40),
        Tier(10, "random", 400, 500, 1.0, 35, 50),
    )
}


def _is_eval_word(word: str) -> bool:
    return hashlib.sha256(word.encode()).digest()[0] < EVAL_WORD_SHARE


@functools.cache
def all_words() -> tuple[str, ...]:
    """The word list, sorted: lower-case web2 words made only of a-z."""
    from english_words import get_english_words_set

    return tuple(
        sorted(
            w for w in get_english_words_set(["web2"], lower=True, alpha=True) if w.isascii() and w.isalpha()
        )
    )


@functools.cache
def word_pool(split: str, min_chars: int, max_chars: int) -> tuple[str, ...]:
    """The words of `split` ("train" or "eval") whose length lies in [min_chars, max_chars]."""
    want_eval = split == "eval"
    return tuple(w for w in all_words() if min_chars <= len(w) <= max_chars and _is_eval_word(w) == want_eval)


def task_rng(split: str, seed: int, index: int, attempt: int = 0) -> random.Random:
    """The random source of one task: a hash of its coordinates, so any task can be rebuilt alone."""
    digest = hashlib.sha256(f"letter-counting/{split}/{seed}/{index}/{attempt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def select_letters(rng: random.Random, text: str, n: int) -> list[str]:
    """Pick `n` distinct letters, each from the letters present in `text` with a per-task probability
    drawn from U(0.3, 0.9), otherwise from the absent ones; returned sorted."""
    present_bias = rng.uniform(0.3, 0.9)
    present = sorted(set(text))
    absent = [c for c in ALPHABET if c not in present]
    chosen: list[str] = []
    for _ in range(min(n, len(ALPHABET))):
        pool = present if (rng.random() < present_bias and present) or not absent else absent
        letter = rng.choice(pool)
        pool.remove(letter)
        chosen.append(letter)
    return sorted(chosen)


def render_prompt(text: str, letters: list[str]) -> str:
    """The user prompt: picoRL's wording, with the letter quoted and "'a' and 'b'" for two letters."""
    if len(letters) == 1:
        return (
            f"How many '{letters[0]}'s are in the string {text}?\n\n"
            "Provide your answer in the format: <answer>{number}</answer>"
        )
    quoted = [f"'{c}'" for c in letters]
    listed = " and ".join(quoted) if len(quoted) == 2 else ", ".join(quoted[:-1]) + ", and " + quoted[-1]
    example = json.dumps(dict.fromkeys(letters, 0))
    return (
        f"Count the occurrences of the letters {listed} in the string {text}\n\n"
        f"Provide your answer as JSON in the format: <answer>{example}</answer>"
    )


def task_id(tier: int, text: str, letters: list[str]) -> str:
    """Durable id: the tier and a hash of (text, letters)."""
    digest = hashlib.sha256(f"{text}|{','.join(letters)}".encode()).hexdigest()[:12]
    return f"lc-t{tier:02d}-{digest}"


def make_task(rng: random.Random, tier: int, split: str) -> dict:
    """One task record of `tier`, drawn from `rng` (words come from `split`'s side of the word list)."""
    spec = TIERS[tier]
    if spec.source == "word":
        text = rng.choice(word_pool(split, spec.min_chars, spec.max_chars))
    else:
        text = "".join(rng.choices(ALPHABET, k=rng.randint(spec.min_chars, spec.max_chars)))
    multi = rng.random() < spec.multi_probability
    n_letters = rng.randint(max(2, spec.min_letters), spec.max_letters) if multi else 1
    letters = select_letters(rng, text, n_letters)
    return {
        "id": task_id(tier, text, letters),
        "split": split,
        "tier": tier,
        "text": text,
        "letters": letters,
        "counts": {c: text.count(c) for c in letters},
        "prompt": render_prompt(text, letters),
    }


def build_eval_tier(tier: int, n: int = EVAL_TASKS_PER_TIER) -> list[dict]:
    """The frozen eval tasks of one tier: `n` distinct (text, letters) pairs from the eval word pool."""
    tasks: list[dict] = []
    seen: set[str] = set()
    index = 0
    while len(tasks) < n:
        task = make_task(task_rng("eval", EVAL_SEED + tier, index), tier, "eval")
        index += 1
        if task["id"] not in seen:
            seen.add(task["id"])
            tasks.append(task)
    return tasks


def eval_path(tier: int) -> Path:
    return DATA_DIR / f"eval_tier{tier:02d}.jsonl"


def load_eval_tasks(tiers: list[int] | None = None) -> list[dict]:
    """The committed frozen eval tasks of `tiers` (all ten by default), tier by tier."""
    tasks: list[dict] = []
    for tier in tiers or sorted(TIERS):
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier}: tiers are 1-10")
        with eval_path(tier).open(encoding="utf-8") as f:
            tasks.extend(json.loads(line) for line in f)
    return tasks


@functools.cache
def eval_texts() -> frozenset[str]:
    """Every text in the committed eval sets (empty before the first freeze): train never uses them."""
    if not MANIFEST.exists():
        return frozenset()
    return frozenset(task["text"] for task in load_eval_tasks())


def train_task(seed: int, index: int, tier: int) -> dict:
    """Train task number `index` of `seed` at `tier`; redrawn while its text is in an eval set."""
    for attempt in range(1000):
        task = make_task(task_rng("train", seed, index, attempt), tier, "train")
        if task["text"] not in eval_texts():
            return task
    raise RuntimeError(f"could not draw a train task outside the eval sets (tier {tier}, index {index})")


def iter_train_tasks(seed: int, tier_of: Callable[[int], int]) -> Iterator[dict]:
    """Endless train tasks of `seed`; `tier_of(index)` picks each task's tier (fixed, mixture or
    curriculum)."""
    index = 0
    while True:
        yield train_task(seed, index, tier_of(index))
        index += 1


def to_jsonl(tasks: list[dict]) -> bytes:
    return "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks).encode("utf-8")


def build_frozen() -> dict[str, bytes]:
    """Every frozen file (name → bytes): the ten eval sets and their manifest."""
    files = {eval_path(tier).name: to_jsonl(build_eval_tier(tier)) for tier in sorted(TIERS)}
    manifest = {
        "generator": "python -m letter_counting.generate --freeze",
        "word_list": WORD_LIST,
        "eval_seed": EVAL_SEED,
        "tasks_per_tier": EVAL_TASKS_PER_TIER,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "tasks": data.count(b"\n")}
            for name, data in files.items()
        },
    }
    files[MANIFEST.name] = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m letter_counting.generate", description=__doc__.split("\n")[0]
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--freeze", action="store_true", help="rewrite the frozen eval sets and manifest")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 if a rebuild differs from the committed files"
    )
    args = parser.parse_args(argv)
    files = build_frozen()
    if args.check:
        stale = [
            n
            for n, data in files.items()
            if not (DATA_DIR / n).exists() or (DATA_DIR / n).read_bytes() != data
        ]
        for name in stale:
            print(f"differs from a rebuild: {DATA_DIR / name}", file=sys.stderr)
        print("frozen eval sets are up to date" if not stale else f"{len(stale)} file(s) differ")
        return 1 if stale else 0
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (DATA_DIR / name).write_bytes(data)
    print(f"wrote {len(files)} files to {DATA_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
