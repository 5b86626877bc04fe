"""The parallel corpus: read rows, split them, turn them into translation tasks.
Pure (datasets only for hub ids).

A row is either a chat triple `{"messages": [system, user, assistant]}` (the user text is the source, the
assistant text the target; a `source_pattern` regex can cut the sentence out of an instruction) or a record
with `source` / `target` columns (names configurable). The stored direction is `corpus_direction`: "into"
(other language → the learned language) or "out_of". The split is seeded and keyed on the case-folded source
text, so duplicate sources always land on the same side; each pair is split before it is expanded into
directions, so a held-out pair is never trained on the other way round.

Corpora are untrusted input: every failure is one `CorpusError` line (a row that is not an object, `meta` that
is not a mapping, text that is not UTF-8, a corrupt Parquet file, JSON nested too deep, a row over
`MAX_ROW_CHARS`), `source_pattern` is compiled once when the options are read (one group required) and run
with a time bound on at most `MAX_ROW_CHARS` characters, and `prompt_template` may use only its three plain
fields.
"""

from __future__ import annotations

import functools
import hashlib
import json
import string
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator

from env_kit import EnvInputError
from parallel_translation.orthography import Orthography, resolve

DATA_DIR = Path(__file__).parent / "data"
EMBEDDED_CORPUS = DATA_DIR / "dakota_english.jsonl"
SPLITS = ("train", "heldout")
Direction = Literal["into", "out_of"]
MAX_ROW_CHARS = 1_000_000
"""A corpus row (a JSONL line, or a Parquet row's source + target) longer than this is refused."""
PATTERN_TIMEOUT_S = 1.0
"""Seconds `source_pattern` may spend on one row before the corpus is refused (catastrophic backtracking)."""
TEMPLATE_FIELDS = frozenset({"source", "source_language", "target_language"})


class CorpusError(EnvInputError):
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

    @field_validator("source_pattern")
    @classmethod
    def one_group(cls, value: str | None) -> str | None:
        """The pattern compiles and has a group to cut the source out with."""
        if value is not None:
            compiled_pattern(value)
        return value

    @field_validator("prompt_template")
    @classmethod
    def plain_fields(cls, value: str) -> str:
        """Only {source}, {source_language} and {target_language}, without attributes, indexes or specs."""
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as err:
            hint = "write a literal brace as {{ or }}"
            raise ValueError(f"prompt_template {value!r}: {err} ({hint})") from None
        for _, name, spec, conversion in parts:
            if name is not None and (name not in TEMPLATE_FIELDS or spec or conversion):
                raise ValueError(
                    f"prompt_template field {{{name}{'!' + conversion if conversion else ''}"
                    f"{':' + spec if spec else ''}}} is not allowed: use {{source}}, {{source_language}} "
                    "or {target_language}"
                )
        return value


@functools.lru_cache(maxsize=16)
def compiled_pattern(pattern: str) -> regex.Pattern:
    """`source_pattern` compiled once (DOTALL); ValueError when it is invalid or has no group."""
    try:
        compiled = regex.compile(pattern, flags=regex.DOTALL)
    except regex.error as err:
        raise ValueError(f"source_pattern {pattern!r} is not a valid regex: {err}") from None
    if compiled.groups < 1:
        raise ValueError(f"source_pattern {pattern!r} needs a group, e.g. 'Translate: (.*)'")
    return compiled


@dataclass(frozen=True)
class Pair:
    """One row of the corpus, in its stored direction."""

    source: str
    target: str
    meta: dict[str, Any]


def read_rows(data: str | Path, hf_split: str = "train") -> list[dict[str, Any]]:
    """Rows of a local JSONL / Parquet file, or of a hub dataset (needs the network or the hub cache)."""
    path = Path(data)
    if path.suffix in (".jsonl", ".json", ".parquet") and not path.is_file():
        raise CorpusError(f"corpus file not found: {path}")
    if path.suffix in (".jsonl", ".json"):
        return [_object_row(row, f"{path}:{n}") for n, row in _json_lines(path)]
    if path.suffix == ".parquet":
        return [_object_row(row, f"{path}: row {n}") for n, row in enumerate(_parquet_rows(path))]
    return _hub_rows(str(data), hf_split)


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of each non-blank line, reading at most MAX_ROW_CHARS of a line."""
    try:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(iter(lambda: f.readline(MAX_ROW_CHARS + 1), ""), 1):
                if len(line) > MAX_ROW_CHARS:
                    raise CorpusError(f"{path}:{n}: a row longer than {MAX_ROW_CHARS:,} characters")
                if line.strip():
                    yield n, _parse_json(line, f"{path}:{n}")
    except UnicodeDecodeError as err:
        raise CorpusError(f"{path}: not UTF-8 text (byte {err.start}); convert it with iconv") from None


def _parse_json(line: str, where: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        raise CorpusError(f"{where}: invalid JSON ({err.msg})") from None
    except RecursionError:
        raise CorpusError(f"{where}: JSON nested too deeply") from None


def _parquet_rows(path: Path) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError) as err:
        first = " ".join(str(err).split())[:200]
        raise CorpusError(f"{path}: not a readable Parquet file ({first})") from None


def _object_row(row: Any, where: str) -> dict[str, Any]:
    """`row` when it is a JSON object / record; else CorpusError naming where it is."""
    if not isinstance(row, dict):
        raise CorpusError(f"{where}: a corpus row must be a JSON object, got {type(row).__name__}")
    return row


def _hub_rows(dataset_id: str, split: str) -> list[dict[str, Any]]:
    try:
        from datasets import load_dataset

        return list(load_dataset(dataset_id, split=split))
    except Exception as err:  # datasets raises many types (offline, missing, gated); all are user-facing
        first = " ".join(str(err).split())[:200]
        raise CorpusError(f"cannot load hub dataset {dataset_id!r} (split {split!r}): {first}") from None


def to_pair(row: Mapping[str, Any], opts: CorpusOptions, index: int) -> Pair:
    """A chat triple or a source/target record → Pair; CorpusError names the row and what is missing."""
    meta = row.get("meta") or {}
    if not isinstance(meta, Mapping):
        raise CorpusError(f"row {index}: `meta` must be an object, got {type(meta).__name__}")
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
    source, target = _text(source, index, "source"), _text(target, index, "target")
    if opts.source_pattern:
        source = _cut_source(source, opts.source_pattern, index)
    return Pair(" ".join(source.split()), " ".join(target.split()), dict(meta))


def _text(value: Any, index: int, what: str) -> str:
    """A row's source or target as text: None is empty (the pair is dropped); other non-text is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CorpusError(f"row {index}: the {what} must be text, got {type(value).__name__}")
    if len(value) > MAX_ROW_CHARS:
        raise CorpusError(f"row {index}: the {what} is longer than {MAX_ROW_CHARS:,} characters")
    return value


def _cut_source(text: str, pattern: str, index: int) -> str:
    """The first group of `pattern` in `text`, searched for at most PATTERN_TIMEOUT_S seconds."""
    try:
        match = compiled_pattern(pattern).search(text, timeout=PATTERN_TIMEOUT_S)
    except TimeoutError:
        raise CorpusError(
            f"row {index}: source_pattern {pattern!r} ran over {PATTERN_TIMEOUT_S:g} s (nested repeats "
            "such as (a+)+ backtrack without end): simplify it"
        ) from None
    if match is None:
        raise CorpusError(f"row {index}: source_pattern {pattern!r} does not match the user text")
    return match.group(1) or ""


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
    try:
        return {
            opts.language: resolve(opts.language, opts.orthography, learned_texts),
            opts.other_language: resolve(opts.other_language, other_table, other_texts),
        }
    except ValueError as err:
        raise CorpusError(str(err)) from None


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
