"""Import the original Dakota1890 task format into our task schema, dropping what cannot be scored honestly.

    python -m data.import_dakota1890 grammar_tasks_complete_v2.jsonl \\
        --out imported.jsonl [--report report.json]

Input rows are `{"prompt", "answer", "info": {"task_type", "rule_id", "difficulty", "source_pages", ...}}`.
Prompt and answer are NFC-normalised and put in the canonical orthography. A row is dropped, with its reason
recorded in the report, when its gold is a placeholder ("[apply first affix]", "[verb] šni"),
when the gold can be copied from the prompt (circular: in "Examples:", "Note: Example of X", "Pattern:",
"Context:", "Gloss:", or the rule description that opens the prompt), when a reverse translation's "Dakota"
gold is English, or when the same prompt has different golds (every row of the group is dropped). Exact
duplicates keep their first row. A malformed row (not JSON, nested too deeply, `info` not an object,
`source_pages` not a list, invalid UTF-8 or a lone surrogate) is dropped with its reason and the import
goes on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from dakota_grammar_translation.tasks import DIFFICULTIES
from data.build import FAMILY_TAG, leaks

FAMILY_OF = {
    "word_translation": "translation",
    "sentence_translation": "translation",
    "reverse_translation": "reverse_translation",
    "morphology": "morphology",
    "affix_insertion": "morphology",
    "multi_step_morphology": "morphology",
    "syntax": "syntax",
    "identify_pattern": "pattern",
    "positive_negative_evidence": "pattern",
    "exception_trigger": "pattern",
}
PLACEHOLDER = re.compile(r"\[[^\]]*\]")
SECTION = re.compile(r"^\s*(Examples|Note|Pattern|Context|Gloss)\s*:", re.MULTILINE)
RULE_PREFIX = "apply this dakota grammar rule:"
ENGLISH_WORDS = {
    "the",
    "a",
    "an",
    "of",
    "and",
    "or",
    "to",
    "is",
    "are",
    "was",
    "in",
    "on",
    "for",
    "with",
    "his",
    "her",
    "their",
    "they",
    "he",
    "she",
    "it",
    "you",
    "we",
    "i",
    "my",
    "your",
    "this",
    "that",
    "by",
    "from",
    "as",
    "be",
    "not",
    "who",
    "which",
    "what",
    "at",
    "one",
    "word",
    "meaning",
    "example",
}
ENGLISH_ENDING = re.compile(r"(tion|ness|ment|ing|ship|ly)$")


def looks_english(text: str) -> bool:
    """A heuristic: ASCII-only text with an English function word or a typical English ending."""
    words = re.findall(r"[A-Za-z]+", text.lower())
    if not words or not text.isascii():
        return False
    return any(w in ENGLISH_WORDS for w in words) or any(ENGLISH_ENDING.search(w) for w in words)


def circular_reason(prompt: str, answer: str, match_key: Any) -> str | None:
    """Why the gold can be copied from the prompt (None if it cannot)."""
    answer_key = match_key(answer)
    if not leaks(match_key(prompt.replace("\n", " ")), answer_key):
        return None
    cuts = [(m.start(), m.group(1)) for m in SECTION.finditer(prompt)]
    head = prompt[: cuts[0][0]] if cuts else prompt
    if leaks(match_key(head.replace("\n", " ")), answer_key):
        if head.strip().lower().startswith(RULE_PREFIX):
            return "circular: rule description in prompt"
        return "circular: gold in prompt text"
    for i, (start, label) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(prompt)
        if leaks(match_key(prompt[start:end].replace("\n", " ")), answer_key):
            return f"circular: gold in {label}:"
    return "circular: gold in prompt text"


def to_record(row: dict[str, Any], family: str, prompt: str, answer: str, split: str) -> dict[str, Any]:
    """A Contract 1 record for an imported row (provenance: Dakota1890, unverified)."""
    info = row.get("info") or {}
    language = (
        "english"
        if family == "translation" or (family != "reverse_translation" and looks_english(answer))
        else "dakota"
    )
    difficulty = info.get("difficulty") if info.get("difficulty") in DIFFICULTIES else "medium"
    segments: list[dict[str, str]] = []
    for i, word in enumerate(answer.split(" ")):
        if i:
            segments.append({"form": " ", "kind": "space"})
        segments.append({"form": word, "kind": "word"})
    pages = ", ".join(str(p) for p in info.get("source_pages") or [])
    digest = hashlib.sha256((family + "\n" + prompt).encode("utf-8")).hexdigest()[:12]
    return {
        "id": f"dgt-{FAMILY_TAG[family]}-{digest}",
        "split": split,
        "family": family,
        "difficulty": difficulty,
        "prompt": prompt,
        "answer": answer,
        "alternatives": [],
        "answer_language": language,
        "meta": {
            "stem": str(info.get("base_form") or ""),
            "affixes": [],
            "segments": segments,
            "rule_ids": [str(info["rule_id"])] if info.get("rule_id") else [],
            "lexeme_ids": [],
            "attested": False,
            "source": f"Dakota1890 (HarleyCoops/Dakota1890) {info.get('task_type', '?')}; "
            f"Riggs 1890 pages {pages or '?'}",
            "review_status": "unverified",
            "gloss": "",
        },
    }


def parse_row(line: str) -> tuple[dict[str, Any], str | None]:
    """(row, None) for a well-formed input row, else ({}, why it is dropped)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"not JSON ({exc.msg})"
    except RecursionError:
        return {}, "not JSON (nested too deeply)"
    if (
        not isinstance(row, dict)
        or not isinstance(row.get("prompt"), str)
        or not isinstance(row.get("answer"), str)
    ):
        return {}, "missing prompt/answer"
    info = row.get("info")
    if info is not None and not isinstance(info, dict):
        return {}, "malformed info (not an object)"
    pages = (info or {}).get("source_pages")
    if pages is not None and not (isinstance(pages, list) and all(isinstance(p, str | int) for p in pages)):
        return {}, "malformed info.source_pages (not a list of pages)"
    try:
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return {}, "invalid Unicode (undecodable bytes or a lone surrogate)"
    return row, None


def _drop_reason(
    task_type: str, family: str | None, prompt: str, answer: str, match_key: Callable[[str], str]
) -> str | None:
    """Why a parsed row cannot be scored honestly (unknown type, placeholder, circular, English), or None."""
    if family is None:
        return f"unknown task_type {task_type!r}"
    if not answer or PLACEHOLDER.search(answer):
        return "placeholder gold"
    reason = circular_reason(prompt, answer, match_key)
    if reason is None and family == "reverse_translation" and looks_english(answer):
        reason = "english as dakota"
    return reason


def _dedupe(
    candidates: list[tuple[int, dict[str, Any]]],
    drops: list[dict[str, Any]],
    match_key: Callable[[str], str],
) -> list[dict[str, Any]]:
    """The first record of each prompt; duplicates and conflicting groups are appended to `drops`."""
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for lineno, rec in candidates:
        groups.setdefault(match_key(rec["prompt"].replace("\n", " ")), []).append((lineno, rec))
    kept: list[dict[str, Any]] = []
    for group in groups.values():
        golds = {match_key(rec["answer"]) for _, rec in group}
        if len(golds) > 1:
            drops.extend(
                {"line": n, "reason": "conflicting duplicate", "answer": rec["answer"][:80]}
                for n, rec in group
            )
            continue
        kept.append(group[0][1])
        drops.extend({"line": n, "reason": "duplicate"} for n, _ in group[1:])
    return kept


def import_rows(lines: Iterable[str], split: str = "train") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Records kept and a report {rows, kept, dropped: {reason: n}, rows_dropped: [{line, reason, ...}]}."""
    from dakota_grammar_translation.orthography import canonicalize, match_key

    drops: list[dict[str, Any]] = []
    candidates: list[tuple[int, dict[str, Any]]] = []
    rows = 0
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        rows += 1
        row, reason = parse_row(line)
        if reason:
            drops.append({"line": lineno, "reason": reason})
            continue
        task_type = str((row.get("info") or {}).get("task_type", ""))
        family = FAMILY_OF.get(task_type)
        prompt = "\n".join(canonicalize(p) for p in row["prompt"].strip().split("\n")).strip()
        prompt = re.sub(r"\n{3,}", "\n\n", prompt)
        answer = canonicalize(row["answer"])
        reason = _drop_reason(task_type, family, prompt, answer, match_key)
        if reason:
            drops.append({"line": lineno, "reason": reason, "task_type": task_type, "answer": answer[:80]})
            continue
        candidates.append((lineno, to_record(row, family, prompt, answer, split)))
    kept = _dedupe(candidates, drops, match_key)
    drops.sort(key=lambda d: d["line"])
    report = {
        "rows": rows,
        "kept": len(kept),
        "dropped": dict(sorted(Counter(d["reason"] for d in drops).items())),
        "rows_dropped": drops,
    }
    return kept, report


def report_table(report: dict[str, Any]) -> str:
    lines = [f"rows {report['rows']}, kept {report['kept']}, dropped {report['rows'] - report['kept']}"]
    lines += [f"  {reason:<45}{n:>6}" for reason, n in report["dropped"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data.import_dakota1890", description=__doc__.split("\n")[0]
    )
    parser.add_argument("input", type=Path, help="a Dakota1890 JSONL file")
    parser.add_argument("--out", type=Path, required=True, help="where to write the imported tasks (JSONL)")
    parser.add_argument("--report", type=Path, help="drop report (JSON); default: <out>.report.json")
    parser.add_argument("--split", choices=("train", "heldout"), default="train")
    args = parser.parse_args(argv)
    if not args.input.is_file():
        print(f"error: {args.input}: file not found", file=sys.stderr)
        return 2
    with args.input.open(encoding="utf-8", errors="surrogateescape") as f:
        records, report = import_rows(f, args.split)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    report_path = args.report or args.out.with_suffix(".report.json")
    report_path.write_text(
        json.dumps({"input": str(args.input), **report}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    print(report_table(report))
    print(f"wrote {args.out} and {report_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
