"""The shipped math task set: byte-identical rebuild, manifest, exact answers, size matched to Dakota."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

import pytest

from dakota_interp import math_tasks
from dakota_interp.math_tasks import DATA_DIR, load_math_tasks, parse_math_answer, score_math


def test_rebuild_is_byte_identical_and_manifest_hashes_match():
    assert math_tasks.check() == []
    manifest = json.loads((DATA_DIR / "math_manifest.json").read_text())
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == digest
    for split, counts in manifest["counts"].items():
        assert sum(counts.values()) == len(load_math_tasks(split))


def test_check_reports_a_changed_file(tmp_path):
    math_tasks.write(tmp_path)
    (tmp_path / "math_tasks_heldout.jsonl").write_text("{}\n")
    (tmp_path / "math_manifest.json").unlink()
    assert math_tasks.check(tmp_path) == ["math_tasks_heldout.jsonl", "math_manifest.json"]


def _value(expression: str) -> int:
    python = expression.replace("×", "*").replace("÷", "/")
    assert re.fullmatch(r"[\d\s+\-*/()]+", python)
    value = eval(python, {"__builtins__": {}})  # digits and operators only (checked above)
    assert value == int(value), "division must be exact"
    return int(value)


@pytest.mark.parametrize("split", ["heldout", "train"])
def test_answers_are_exact_and_prompts_unique(split):
    tasks = load_math_tasks(split)
    assert all(list(t) == list(math_tasks.TASK_KEYS) for t in tasks)
    assert all(_value(t["meta"]["expression"]) == int(t["answer"]) >= 0 for t in tasks)
    assert len({t["prompt"] for t in tasks}) == len(tasks)
    assert len({t["id"] for t in tasks}) == len(tasks)
    counts = Counter(t["difficulty"] for t in tasks)
    assert counts == math_tasks.COUNTS[split]
    ops = {
        d: [t["meta"]["operations"] for t in tasks if t["difficulty"] == d] for d in math_tasks.DIFFICULTIES
    }
    means = [sum(v) / len(v) for v in ops.values()]
    assert means == sorted(means) and means[0] < means[-1], "harder bands need more operations"


def test_splits_are_disjoint():
    held = {t["prompt"] for t in load_math_tasks("heldout")}
    assert not held & {t["prompt"] for t in load_math_tasks("train")}


def test_size_and_bands_match_the_dakota_set():
    tasks_mod = pytest.importorskip("dakota_grammar_translation.tasks")
    for split in ("heldout", "train"):
        try:
            dakota = Counter(t["difficulty"] for t in tasks_mod.load_tasks(split))
        except FileNotFoundError:
            pytest.skip("the Dakota task files are not built")
        ours = math_tasks.COUNTS[split]
        total, theirs = sum(ours.values()), sum(dakota.values())
        assert abs(total - theirs) <= 0.25 * theirs, (
            f"{split}: {total} math vs {theirs} Dakota tasks; update COUNTS"
        )
        for band in math_tasks.DIFFICULTIES:
            assert abs(ours[band] / total - dakota[band] / theirs) <= 0.05, f"{split}/{band} share drifted"


def test_score_math():
    task = {"answer": "1234"}
    assert score_math("<answer>1,234</answer>", task) == 1.0
    assert score_math("I think 5 then <answer>1234</answer>", task) == 1.0
    assert score_math("first 1234, <answer>12</answer>", task) == 0.0
    assert score_math("so the result is 1234", task) == 1.0
    assert score_math(None, task) == 0.0 and score_math("", task) == 0.0
    assert parse_math_answer("<answer>-7</answer>") == "-7"
