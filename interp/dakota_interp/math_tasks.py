"""A procedurally generated math task set to compare against the Dakota tasks.

Arithmetic expressions and short word problems with exact integer answers, in the same four difficulty
bands as the Dakota set (easy: one operation on small numbers; medium: two operations; hard: three
operations with brackets; advanced: four or more operations with exact division and three-digit
numbers). Generation is deterministic: `python -m dakota_interp.math_tasks` writes the JSONL files and a
manifest into the package's `data/` folder; `--check` rebuilds into a temporary folder and fails if a byte
differs. Scoring is exact match on the final integer (`score_math`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

from dakota_grammar_translation.tasks import DIFFICULTIES  # the same four bands as the Dakota tasks

GENERATOR_VERSION = "1"
DATA_DIR = Path(__file__).parent / "data"
FAMILIES = ("arithmetic", "word_problem")
COUNTS = {
    "heldout": {"easy": 438, "medium": 416, "hard": 337, "advanced": 601},
    "train": {"easy": 1495, "medium": 1902, "hard": 1734, "advanced": 3163},
}
"""Tasks per split and difficulty band, matched to the Dakota task set's counts (split evenly between the
two families, arithmetic taking the odd one)."""

NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena")
ITEMS = ("apples", "books", "stones", "pencils", "cards", "shells", "coins", "beads", "stamps", "eggs")
TASK_KEYS = ("id", "split", "family", "difficulty", "prompt", "answer", "meta")


def _expression(rng: random.Random, difficulty: str) -> tuple[str, int]:
    """An arithmetic expression for the band and its exact non-negative integer value."""
    while True:
        if difficulty == "easy":
            a, b = rng.randint(2, 49), rng.randint(2, 49)
            text = f"{a} + {b}" if rng.random() < 0.5 else f"{max(a, b)} - {min(a, b)}"
        elif difficulty == "medium":
            a, b, c = rng.randint(11, 99), rng.randint(2, 9), rng.randint(2, 60)
            text = rng.choice([f"{a} * {b} + {c}", f"{a} * {b} - {c}", f"{a} + {c} - {b}"])
        elif difficulty == "hard":
            a, b, c, d = rng.randint(11, 99), rng.randint(11, 99), rng.randint(2, 12), rng.randint(2, 99)
            text = rng.choice(
                [f"({a} + {b}) * {c} - {d}", f"({a} - {b}) * {c} + {d}", f"{a} * {c} - ({b} + {d})"]
            )
        else:
            b, q = rng.randint(2, 12), rng.randint(12, 99)
            a, c, d, e = b * q, rng.randint(101, 999), rng.randint(3, 19), rng.randint(11, 99)
            text = rng.choice(
                [
                    f"{a} / {b} + {c} - {d} * {e}",
                    f"({c} - {a} / {b}) * {d} + {e}",
                    f"{c} + {d} * {e} - {a} / {b}",
                ]
            )
        value = eval(text.replace("/", "//"), {"__builtins__": {}})  # our own digits and operators only
        if value >= 0:
            return text.replace("*", "×").replace("/", "÷"), value


def _word_problem(rng: random.Random, difficulty: str) -> tuple[str, int, str]:
    """A word problem for the band, its exact answer and the expression that solves it."""
    name, other = rng.sample(NAMES, 2)
    item = rng.choice(ITEMS)
    if difficulty == "easy":
        a, b = rng.randint(3, 40), rng.randint(2, 30)
        text = f"{name} has {a} {item} and finds {b} more. How many {item} does {name} have now?"
        return text, a + b, f"{a} + {b}"
    if difficulty == "medium":
        a, b, c = rng.randint(3, 12), rng.randint(3, 12), rng.randint(2, 20)
        text = (
            f"{name} buys {a} bags with {b} {item} in each bag, then gives {c} {item} to {other}. "
            f"How many {item} does {name} have left?"
        )
        if a * b - c < 0:
            return _word_problem(rng, difficulty)
        return text, a * b - c, f"{a} * {b} - {c}"
    if difficulty == "hard":
        a, b, c, d = rng.randint(4, 15), rng.randint(4, 15), rng.randint(2, 9), rng.randint(2, 30)
        text = (
            f"{name} has {a} boxes of {item} and {other} has {b} boxes. Each box holds {c} {item}. "
            f"They use {d} {item}. How many {item} are left?"
        )
        if (a + b) * c - d < 0:
            return _word_problem(rng, difficulty)
        return text, (a + b) * c - d, f"({a} + {b}) * {c} - {d}"
    groups, per = rng.randint(3, 9), rng.randint(12, 40)
    total, extra, price = groups * per, rng.randint(5, 60), rng.randint(2, 9)
    text = (
        f"{name} shares {total} {item} equally among {groups} friends. {other} is one of them, adds "
        f"{extra} {item} to that share and sells the whole lot for {price} dollars each. "
        f"How many dollars does {other} get?"
    )
    return text, (total // groups + extra) * price, f"({total} / {groups} + {extra}) * {price}"


def make_task(split: str, difficulty: str, family: str, rng: random.Random) -> dict:
    """One task record (keys in `TASK_KEYS` order)."""
    if family == "arithmetic":
        expression, value = _expression(rng, difficulty)
        prompt = f"Compute {expression}. Give the result as a whole number."
    else:
        prompt, value, expression = _word_problem(rng, difficulty)
    steps = sum(expression.count(f" {op} ") for op in "+-*/×÷")
    task_id = "math-" + hashlib.sha256(f"{family}\n{prompt}".encode()).hexdigest()[:12]
    return {
        "id": task_id,
        "split": split,
        "family": family,
        "difficulty": difficulty,
        "prompt": prompt,
        "answer": str(value),
        "meta": {"expression": expression, "operations": steps},
    }


def generate() -> dict[str, list[dict]]:
    """Both splits; held-out first, and no train prompt repeats a held-out one."""
    seen: set[str] = set()
    out: dict[str, list[dict]] = {}
    for split in ("heldout", "train"):
        tasks = []
        for difficulty in DIFFICULTIES:
            for k, family in enumerate(FAMILIES):
                rng = random.Random(f"{GENERATOR_VERSION}/{split}/{difficulty}/{family}")
                wanted = COUNTS[split][difficulty] // 2 + (COUNTS[split][difficulty] % 2 if k == 0 else 0)
                made = 0
                while made < wanted:
                    task = make_task(split, difficulty, family, rng)
                    if task["prompt"] not in seen:
                        seen.add(task["prompt"])
                        tasks.append(task)
                        made += 1
        out[split] = tasks
    return out


def _jsonl(tasks: list[dict]) -> bytes:
    return "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks).encode()


def write(out_dir: Path) -> dict:
    """Write math_tasks_<split>.jsonl and math_manifest.json into `out_dir`; return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files, counts = {}, {}
    for split, tasks in generate().items():
        name = f"math_tasks_{split}.jsonl"
        blob = _jsonl(tasks)
        (out_dir / name).write_bytes(blob)
        files[name] = hashlib.sha256(blob).hexdigest()
        counts[split] = dict(sorted(Counter(f"{t['difficulty']}/{t['family']}" for t in tasks).items()))
    manifest = {
        "generator": "dakota_interp.math_tasks",
        "generator_version": GENERATOR_VERSION,
        "counts": counts,
        "sha256": files,
    }
    (out_dir / "math_manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def check(data_dir: Path = DATA_DIR) -> list[str]:
    """Rebuild into a temporary folder; the names of shipped files that differ (empty = identical)."""
    with tempfile.TemporaryDirectory() as tmp:
        manifest = write(Path(tmp))
        names = [*manifest["sha256"], "math_manifest.json"]
        return [
            n
            for n in names
            if not (data_dir / n).is_file() or (data_dir / n).read_bytes() != (Path(tmp) / n).read_bytes()
        ]


def load_math_tasks(split: str = "heldout") -> list[dict]:
    """The shipped math tasks of one split."""
    path = DATA_DIR / f"math_tasks_{split}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; run `python -m dakota_interp.math_tasks` to build it")
    return [json.loads(line) for line in path.read_text().splitlines() if line]


_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_INTEGER = re.compile(r"-?\d[\d,]*")


def parse_math_answer(completion: str | None) -> str | None:
    """The integer in the last <answer>…</answer> (else the last integer in the text), commas removed."""
    if not completion:
        return None
    tags = _ANSWER_TAG.findall(completion)
    numbers = _INTEGER.findall(tags[-1] if tags else completion)
    return numbers[-1].replace(",", "") if numbers else None


def score_math(completion: str | None, task: Mapping) -> float:
    """Exact match: 1.0 when the parsed integer equals the gold answer, else 0.0."""
    return float(parse_math_answer(completion) == task["answer"])


def _summary(manifest: dict, print_fn: Callable[[str], None] = print) -> None:
    for split, counts in manifest["counts"].items():
        print_fn(
            f"{split}: {sum(counts.values())} tasks  " + "  ".join(f"{k}={v}" for k, v in counts.items())
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dakota_interp.math_tasks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="rebuild in a temp dir and compare with the shipped files"
    )
    parser.add_argument(
        "--out", type=Path, default=DATA_DIR, help="output folder (default: the package data)"
    )
    args = parser.parse_args(argv)
    if args.check:
        differ = check(args.out)
        if differ:
            print(
                f"math tasks differ from a rebuild: {', '.join(differ)}; "
                "run python -m dakota_interp.math_tasks"
            )
            return 1
        print("math tasks: rebuild is byte-identical")
        return 0
    _summary(write(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
