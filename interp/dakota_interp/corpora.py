"""The texts and prompts the analyses run on: Dakota task text with its English glosses, and math."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dakota_interp.math_tasks import load_math_tasks
from dakota_rl.errors import UserError
from dakota_rl.paths import LEXICON

ANSWER_INSTRUCTION = "Put the final answer inside <answer></answer>."
"""Appended to every prompt (Dakota and math alike) so both domains ask for the same answer format."""


def dakota_tasks(split: str = "heldout") -> list[dict]:
    """The Dakota environment's tasks of one split (Contract 1)."""
    from dakota_grammar_translation.tasks import load_tasks

    return [dict(t) for t in load_tasks(split)]


def dakota_gloss_pairs(split: str = "heldout") -> tuple[list[str], list[str], str]:
    """Parallel Dakota text and English glosses, deduplicated, plus where they came from.

    From the tasks whose gold answer is Dakota (answer, meta.gloss); if the generated tasks are not there,
    from the curated lexicon (form, gloss), skipping rejected entries.
    """
    pairs: dict[str, str] = {}
    try:
        for task in dakota_tasks(split):
            gloss = task.get("meta", {}).get("gloss")
            if task["answer_language"] == "dakota" and gloss:
                pairs.setdefault(task["answer"], gloss)
        source = f"tasks ({split})"
    except (FileNotFoundError, ImportError):
        import yaml

        entries = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))["entries"]
        for entry in entries:
            if entry.get("review_status") != "rejected" and entry.get("gloss"):
                pairs.setdefault(entry["form"], entry["gloss"])
        source = "lexicon.yaml (generated tasks not found)"
    return list(pairs), list(pairs.values()), source


def math_lines(split: str = "heldout") -> list[str]:
    """The math prompts of one split."""
    return [t["prompt"] for t in load_math_tasks(split)]


def user_prompt(task: Mapping[str, Any]) -> str:
    """The user turn for a task of either domain."""
    return f"{task['prompt']}\n\n{ANSWER_INSTRUCTION}"


def slice_tasks(tasks: list[dict], n: int, *, families: tuple[str, ...] | None = None) -> list[dict]:
    """A small deterministic slice balanced over difficulty bands: the first tasks of each band in turn."""
    pool = [t for t in tasks if families is None or t["family"] in families]
    bands: dict[str, list[dict]] = {}
    for task in sorted(pool, key=lambda t: t["id"]):
        bands.setdefault(task["difficulty"], []).append(task)
    out: list[dict] = []
    while len(out) < n and any(bands.values()):
        for band in ("easy", "medium", "hard", "advanced"):
            if bands.get(band) and len(out) < n:
                out.append(bands[band].pop(0))
    return out


def domains(n: int, split: str) -> dict[str, list[dict]]:
    """Balanced slices of `n` Dakota and `n` math tasks of one split."""
    try:
        dakota = dakota_tasks(split)
    except FileNotFoundError as exc:
        raise UserError(f"Dakota tasks not found ({exc}); build them with python -m data.build") from None
    return {"dakota": slice_tasks(dakota, n), "math": slice_tasks(load_math_tasks(split), n)}


def morphology_tasks(split: str) -> list[dict]:
    """The Dakota morphology tasks of one split (activation patching's minimal pairs come from them)."""
    return [t for t in dakota_tasks(split) if t["family"] == "morphology"]
