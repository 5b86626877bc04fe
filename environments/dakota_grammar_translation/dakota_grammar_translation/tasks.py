"""The task record (ARCHITECTURE.md, Contract 1) and the loader for the packaged JSONL splits. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypedDict

DATA_DIR = Path(__file__).parent / "data"

Split = Literal["train", "heldout", "attested"]
FAMILIES = ("morphology", "translation", "reverse_translation", "syntax", "pattern")
DIFFICULTIES = ("easy", "medium", "hard", "advanced")
SPLITS = ("train", "heldout", "attested")
ANSWER_LANGUAGES = ("dakota", "english")
SEGMENT_KINDS = ("stem", "prefix", "infix", "suffix", "enclitic", "particle", "word", "space")
AFFIX_SLOTS = ("prefix", "infix", "suffix", "enclitic", "particle")
RECORD_KEYS = (
    "id", "split", "family", "difficulty", "prompt", "answer", "alternatives", "answer_language", "meta",
)


class Segment(TypedDict):
    """One piece of the gold answer; the pieces' forms concatenate to the answer exactly."""

    form: str
    kind: str


class Affix(TypedDict):
    """An affix the task requires, with its slot and the rule that adds it."""

    form: str
    slot: str
    rule_id: str


class TaskMeta(TypedDict, total=False):
    """Provenance and structure of a task (stem, affixes, segments, rules, lexemes, source, review status)."""

    stem: str
    affixes: list[Affix]
    segments: list[Segment]
    rule_ids: list[str]
    lexeme_ids: list[str]
    attested: bool
    source: str
    review_status: str
    gloss: str


class TaskRecord(TypedDict):
    """One task: a prompt, its gold answer (+ accepted alternatives) and metadata."""

    id: str
    split: str
    family: str
    difficulty: str
    prompt: str
    answer: str
    alternatives: list[str]
    answer_language: str
    meta: TaskMeta


def validate_record(rec: Mapping[str, Any]) -> list[str]:
    """Every way `rec` breaks Contract 1 (an empty list means valid)."""
    problems: list[str] = []
    missing = [k for k in RECORD_KEYS if k not in rec]
    if missing:
        return [f"missing keys: {', '.join(missing)}"]
    for key in ("id", "prompt", "answer"):
        if not isinstance(rec[key], str) or not rec[key].strip():
            problems.append(f"{key} must be a non-empty string")
    for key, allowed in (
        ("split", SPLITS), ("family", FAMILIES), ("difficulty", DIFFICULTIES), ("answer_language", ANSWER_LANGUAGES),
    ):
        if rec[key] not in allowed:
            problems.append(f"{key}={rec[key]!r} not in {allowed}")
    if not isinstance(rec["alternatives"], list) or not all(isinstance(a, str) for a in rec["alternatives"]):
        problems.append("alternatives must be a list of strings")
    meta = rec["meta"]
    if not isinstance(meta, Mapping):
        return [*problems, "meta must be an object"]
    segments = meta.get("segments")
    if not isinstance(segments, list) or not segments:
        problems.append("meta.segments must be a non-empty list")
    else:
        if any(not isinstance(s, Mapping) or s.get("kind") not in SEGMENT_KINDS for s in segments):
            problems.append(f"meta.segments kinds must be in {SEGMENT_KINDS}")
        elif "".join(str(s.get("form", "")) for s in segments) != rec["answer"]:
            problems.append("meta.segments forms do not concatenate to the answer")
    for affix in meta.get("affixes") or []:
        if not isinstance(affix, Mapping) or affix.get("slot") not in AFFIX_SLOTS:
            problems.append(f"meta.affixes slots must be in {AFFIX_SLOTS}")
            break
    return problems


def tasks_path(split: Split) -> Path:
    """The packaged JSONL file of a split."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")
    return DATA_DIR / f"tasks_{split}.jsonl"


def read_tasks(path: str | Path) -> list[TaskRecord]:
    """Read and validate a task JSONL file; a one-line error names the file and line of a bad record."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"task file missing: {path} (generate it with `python -m data.build`)")
    records: list[TaskRecord] = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            problems = validate_record(rec) if isinstance(rec, dict) else ["not a JSON object"]
            if problems:
                raise ValueError(f"{path}:{lineno}: invalid task record: {'; '.join(problems)}")
            records.append(rec)
    return records


def load_tasks(split: Split = "train") -> list[TaskRecord]:
    """The packaged tasks of `split`: "train", "heldout" (both derived by our rules from Riggs) or "attested"
    (verb forms from UniMorph Dakota, CC BY-SA 3.0; see data/UNIMORPH_LICENSE.md)."""
    return read_tasks(tasks_path(split))
