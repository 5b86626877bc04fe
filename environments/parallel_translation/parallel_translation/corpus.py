"""The parallel corpus: read rows, split them, turn them into translation tasks.
Pure (datasets only for hub ids).

A row is either a chat triple `{"messages": [system, user, assistant]}` (the user text is the source, the
assistant text the target; a `source_pattern` regex can cut the sentence out of an instruction) or a record
with `source` / `target` columns (names configurable). The stored direction is `corpus_direction`: "into"
(other language → the learned language) or "out_of". The split is seeded and keyed on the case-folded source
text, so duplicate sources always land on the same side; each pair is split before it is expanded into
directions, so a held-out pair is never trained on the other way round.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from parallel_translation.orthography import Orthography, resolve

DATA_DIR = Path(__file__).parent / "data"
EMBEDDED_CORPUS = DATA_DIR / "dakota_english.jsonl"
SPLITS = ("train", "heldout")
Direction = Literal["into", "out_of"]


class CorpusError(ValueError):
    """A corpus that cannot be read or mapped; the launcher shows it as one line."""


class CorpusOptions(BaseModel):
    """Where the corpus comes from and how it becomes tasks (the taskset's load-time options)."""

    model_config = ConfigDict(extra="forbid")

    data: str | None = None
    """A local .jsonl/.parquet file or a hub dataset id (e.g. HarleyCooper/StoneyNakoda45k); None = the
    embedded Dakota ⇄ English corpus."""
    hf_split: str = "train"
    """The hub dataset's split to read (all of it is then split by `heldout_fraction`)."""
    messages_field: str = "messages"
    """Chat rows: the field holding the [system, user, assistant] messages."""
    source_field: str = "source"
    """Column rows: the source-text column."""
    target_field: str = "target"
    """Column rows: the target-text column."""
    source_pattern: str | None = None
    """Regex whose first group cuts the source sentence out of the user message (None: the whole message)."""
    language: str = "dakota"
    """The language being learned (its orthography table scores special-character preservation)."""
    other_language: str = "english"
    corpus_direction: Direction = "into"
    """How the stored rows go: "into" = other language → `language`; "out_of" = the reverse."""
    direction: Literal["into", "out_of", "both"] = "both"
    """Which way(s) to translate: into the language, out of it, or both (two tasks per pair)."""
    orthography: str | None = None
    """"dakota" | "english" | "none" | "auto" | a JSON table path; None: dakota for Dakota, else auto."""
    split: Literal["train", "heldout"] = "train"
    heldout_fraction: float = Field(0.1, gt=0, lt=1)
    """Share of distinct sources held out."""
    seed: int = 0
    """Split seed: the same seed and corpus give the same split."""
    limit: int | None = Field(None, ge=1)
    """Keep at most this many tasks (corpus order)."""
    prompt_template: str = "Translate from {source_language} into {target_language}:\n{source}"
    """The user prompt; fields {source}, {source_language}, {target_language}. "{source}" keeps the text."""


@dataclass(frozen=True)
class Pair:
    """One row of the corpus, in its stored direction."""

    source: str
    target: str
    meta: dict[str, Any]


def read_rows(data: str | Path, hf_split: str = "train") -> list[dict[str, Any]]:
    """Rows of a local JSONL / Parquet file, or of a hub dataset (needs the network or the hub cache)."""
    path = Path(data)
    if path.suffix == ".jsonl" or (path.is_file() and path.suffix == ".json"):
        if not path.is_file():
            raise CorpusError(f"corpus file not found: {path}")
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise CorpusError(f"{path}:{n}: invalid JSON ({err.msg})") from None
        return rows
    if path.suffix == ".parquet":
        if not path.is_file():
            raise CorpusError(f"corpus file not found: {path}")
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    return _hub_rows(str(data), hf_split)


def _hub_rows(dataset_id: str, split: str) -> list[dict[str, Any]]:
    try:
        from datasets import load_dataset

        return list(load_dataset(dataset_id, split=split))
    except Exception as err:  # datasets raises many types (offline, missing, gated); all are user-facing
        first = " ".join(str(err).split())[:200]
        raise CorpusError(f"cannot load hub dataset {dataset_id!r} (split {split!r}): {first}") from None


def to_pair(row: Mapping[str, Any], opts: CorpusOptions, index: int) -> Pair:
    """A chat triple or a source/target record → Pair; CorpusError names the row and what is missing."""
    meta = dict(row.get("meta") or {})
    messages = row.get(opts.messages_field)
    if isinstance(messages, list):
        user = [m.get("content", "") for m in messages if isinstance(m, Mapping) and m.get("role") == "user"]
        reply = [
            m.get("content", "") for m in messages if isinstance(m, Mapping) and m.get("role") == "assistant"
        ]
        if not user or not reply:
            raise CorpusError(f"row {index}: `{opts.messages_field}` needs a user and an assistant message")
        source, target = user[0], reply[0]
    elif opts.source_field in row and opts.target_field in row:
        source, target = row[opts.source_field], row[opts.target_field]
    else:
        raise CorpusError(
            f"row {index}: neither `{opts.messages_field}` (chat) nor "
            f"`{opts.source_field}`/`{opts.target_field}` columns; set messages_field or "
            "source_field/target_field"
        )
    if opts.source_pattern:
        match = re.search(opts.source_pattern, str(source), flags=re.DOTALL)
        if match is None:
            raise CorpusError(
                f"row {index}: source_pattern {opts.source_pattern!r} does not match the user text"
            )
        source = match.group(1)
    return Pair(" ".join(str(source).split()), " ".join(str(target).split()), meta)


def split_of(source: str, seed: int, heldout_fraction: float) -> str:
    """ "train" or "heldout", from a seeded hash of the case-folded source (duplicates share a side)."""
    digest = hashlib.sha256(f"{seed}\x00{source.casefold()}".encode()).digest()
    return "heldout" if int.from_bytes(digest[:8], "big") / 2**64 < heldout_fraction else "train"


def load_pairs(opts: CorpusOptions) -> list[Pair]:
    """Every non-empty pair of the corpus, in file order."""
    rows = read_rows(opts.data or EMBEDDED_CORPUS, opts.hf_split)
    pairs = [to_pair(row, opts, i) for i, row in enumerate(rows)]
    pairs = [p for p in pairs if p.source and p.target]
    if not pairs:
        raise CorpusError(f"corpus {opts.data or EMBEDDED_CORPUS} has no non-empty pairs")
    return pairs


def orthographies(opts: CorpusOptions, pairs: Iterable[Pair]) -> dict[str, Orthography]:
    """Language name → table, for the learned language and the other one (english has none)."""
    learned_texts = [p.target if opts.corpus_direction == "into" else p.source for p in pairs]
    other_texts = [p.source if opts.corpus_direction == "into" else p.target for p in pairs]
    other_table = "english" if opts.other_language.casefold() == "english" else None
    return {
        opts.language: resolve(opts.language, opts.orthography, learned_texts),
        opts.other_language: resolve(opts.other_language, other_table, other_texts),
    }


def task_record(
    pair: Pair, direction: Direction, opts: CorpusOptions, table: Orthography, split: str
) -> dict:
    """One task: prompt, gold answer and the target language's orthography (the scorer needs nothing else)."""
    stored_into = opts.corpus_direction == "into"
    source, target = (
        (pair.source, pair.target) if (direction == "into") == stored_into else (pair.target, pair.source)
    )
    src_lang, tgt_lang = (
        (opts.other_language, opts.language) if direction == "into" else (opts.language, opts.other_language)
    )
    key = hashlib.sha256(f"{direction}\x00{source}\x00{target}".encode()).hexdigest()[:12]
    return {
        "id": f"pt-{direction}-{key}",
        "split": split,
        "direction": direction,
        "prompt": opts.prompt_template.format(
            source=source, source_language=src_lang.capitalize(), target_language=tgt_lang.capitalize()
        ),
        "source": source,
        "answer": target,
        "alternatives": [],
        "source_language": src_lang,
        "target_language": tgt_lang,
        "orthography": table.as_dict(),
        "meta": pair.meta,
    }


def load_tasks(opts: CorpusOptions) -> list[dict[str, Any]]:
    """The tasks of `opts.split`: pairs in canonical spelling, split by source, expanded into the chosen
    direction(s), one task per (direction, source) with the other targets as alternatives."""
    pairs = load_pairs(opts)
    tables = orthographies(opts, pairs)
    learned, other = tables[opts.language], tables[opts.other_language]
    src_table, tgt_table = (other, learned) if opts.corpus_direction == "into" else (learned, other)
    pairs = [Pair(src_table.canonicalize(p.source), tgt_table.canonicalize(p.target), p.meta) for p in pairs]
    directions: list[Direction] = ["into", "out_of"] if opts.direction == "both" else [opts.direction]
    tasks: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        if split_of(pair.source, opts.seed, opts.heldout_fraction) != opts.split:
            continue
        for direction in directions:
            target_language = opts.language if direction == "into" else opts.other_language
            record = task_record(pair, direction, opts, tables[target_language], opts.split)
            _merge_alternatives(tasks, record)
    out = list(tasks.values())
    return out[: opts.limit] if opts.limit else out


def _merge_alternatives(tasks: dict[str, dict[str, Any]], record: dict[str, Any]) -> None:
    """One task per (direction, source): other targets of the same source become alternatives."""
    key = f"{record['direction']}\x00{record['source'].casefold()}"
    if key not in tasks:
        tasks[key] = record
    elif record["answer"] != tasks[key]["answer"] and record["answer"] not in tasks[key]["alternatives"]:
        tasks[key]["alternatives"].append(record["answer"])


def main(argv: list[str] | None = None) -> int:
    """Preview a corpus as the environment will see it: counts per split and the first tasks."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m parallel_translation.corpus", description=main.__doc__)
    parser.add_argument(
        "--data", default=None, help="JSONL/Parquet file or hub id (default: embedded corpus)"
    )
    parser.add_argument("--language", default="dakota")
    parser.add_argument("--other-language", default="english")
    parser.add_argument("--corpus-direction", default="into", choices=["into", "out_of"])
    parser.add_argument("--show", type=int, default=3)
    args = parser.parse_args(argv)
    common = dict(
        data=args.data,
        language=args.language,
        other_language=args.other_language,
        corpus_direction=args.corpus_direction,
    )
    try:
        splits = {s: load_tasks(CorpusOptions(split=s, **common)) for s in SPLITS}
    except CorpusError as err:
        print(f"corpus: error: {err}", file=sys.stderr)
        return 2
    print(", ".join(f"{s}: {len(t)} tasks" for s, t in splits.items()))
    into = args.corpus_direction == "into"
    special = splits["train"][0]["orthography"]["special"] if into else "(see out_of tasks)"
    print(f"special letters of {args.language}: {special}")
    for task in splits["train"][: args.show]:
        print(json.dumps({k: task[k] for k in ("direction", "prompt", "answer")}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
