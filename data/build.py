"""The deterministic task generator: Riggs source YAML → task JSONL splits + orthography table + manifest.

    python -m data.build            # write environments/dakota_grammar_translation/.../data/
    python -m data.build --check    # rebuild in a temp dir; fail if any committed file differs

Five families (morphology, translation, reverse_translation, syntax, pattern) × four difficulties, split by
lexeme: content lexemes (verbs, nouns, numerals, adverbs) are assigned to train or held-out by a hash of their
id; a task goes to held-out only if all its content lexemes are held-out ones (mixed tasks are dropped).
Every task's gold is kept out of its prompt, and no prompt has two different golds (see ARCHITECTURE.md,
Contract 1).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dakota_grammar_translation.tasks import DIFFICULTIES, FAMILIES
from data.grammar import Grammar, Lexeme
from data.sources import SourceError, load_lexicon, load_rules
from data.templates import CONTENT_POS, Draft, Inputs, build_drafts, rule_id_problems, sample_hash

__all__ = ["SourceError", "build", "check", "leaks", "main"]

GENERATOR_VERSION = "2.0.0"
REPO = Path(__file__).resolve().parents[1]
SOURCE_DIR = REPO / "data" / "riggs"
OUT_DIR = REPO / "environments" / "dakota_grammar_translation" / "dakota_grammar_translation" / "data"
SOURCES = ("lexicon.yaml", "rules.yaml", "orthography.yaml")
OUTPUTS = ("tasks_train.jsonl", "tasks_heldout.jsonl", "orthography.json", "manifest.json")
HELDOUT_PERMILLE = 200
FAMILY_TAG = {
    "morphology": "morph",
    "translation": "trans",
    "reverse_translation": "rev",
    "syntax": "syn",
    "pattern": "pat",
}
assert tuple(FAMILY_TAG) == FAMILIES, "FAMILY_TAG must list tasks.FAMILIES in order"
STATUS_RANK = {"unverified": 0, "unreviewed": 1, "corrected": 2, "approved": 3}
FAMILY_CAP = {
    "morphology": 3000,
    "translation": 3200,
    "reverse_translation": 3000,
    "syntax": 2200,
    "pattern": 600,
}
IMPLIED_RULES = {
    "pron-3sg-zero",
    "dual-no-pi",
    "pron-3pl-pi",
    "stative-uses-patient",
    "third-person-no-object-singular",
}


def _canon() -> tuple[Any, Any]:
    """Cached `canonicalize` and `match_key` on a freshly loaded table (the strings repeat a lot)."""
    from functools import lru_cache

    from dakota_grammar_translation import orthography

    orthography.load_table.cache_clear()
    orthography._compiled.cache_clear()
    return lru_cache(maxsize=None)(orthography.canonicalize), lru_cache(maxsize=None)(orthography.match_key)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_heldout_lexeme(lexeme_id: str) -> bool:
    """Deterministic lexeme split: a hash of the id, ~20% held out."""
    return (
        int(hashlib.sha256(f"dakota-split:{lexeme_id}".encode()).hexdigest()[:12], 16) % 1000
        < HELDOUT_PERMILLE
    )


def same_split(a: Lexeme, b: Lexeme) -> bool:
    """Are both lexemes train, or both held-out?"""
    return is_heldout_lexeme(a.id) == is_heldout_lexeme(b.id)


# -- assembly ------------------------------------------------------------------------------------------------
def difficulty_of(draft: Draft) -> str:
    rules = [r for r in draft.rule_ids() if r not in IMPLIED_RULES]
    words = len(draft.dakota.split(" "))
    score = len(rules) + max(0, words - 3) + draft.extra_words
    if draft.family == "pattern":
        score = max(score, 1)
    return DIFFICULTIES[min(max(score, 1), 4) - 1]


def weakest_status(statuses: Iterable[str]) -> str:
    return min(statuses, key=lambda s: STATUS_RANK.get(s, 0))


WORD = re.compile(r"\w+")


def _words(text: str) -> str:
    return " ".join(w.strip("\u02bc") for w in WORD.findall(text))


def leaks(prompt_key: str, answer_key: str) -> bool:
    """Does the answer (match keys) occur as whole words in the prompt? Punctuation between words and quote
    marks turned into ʼ at word edges are ignored."""
    answer = _words(answer_key)
    return bool(answer.strip()) and f" {answer} " in f" {_words(prompt_key)} "


UNACCENTED = str.maketrans("áéíóú", "aeiou")


def unaccented(text: str) -> str:
    """The text without stress accents (a gold that differs from a prompt word only by an accent is a
    leak)."""
    return text.translate(UNACCENTED)


def cap_families(drafts: list[Draft]) -> list[Draft]:
    """Keep at most FAMILY_CAP[family] drafts per family: those with the lowest hash of their prompt."""
    kept: list[Draft] = []
    for family in FAMILIES:
        group = [d for d in drafts if d.family == family]
        group.sort(key=lambda d: sample_hash(f"cap:{d.family}:{d.prompt}"))
        kept.extend(group[: FAMILY_CAP[family]])
    return kept


def _draft_texts(d: Draft, grammar: Grammar, canonicalize: Any) -> tuple[str, str, list[str]]:
    """The draft's canonical prompt, answer and alternatives (+ the -kiŋ variant of a -ćiŋ answer)."""
    prompt = "\n".join(canonicalize(line) for line in d.prompt.split("\n"))
    answer = canonicalize(d.answer)
    alts = {canonicalize(a) for a in d.alternatives}
    if d.answer_language == "dakota" and "article-definite-cin" in d.rule_ids():
        cin, kin = grammar.form_of("article-definite-cin"), grammar.form_of("article-definite-kin")
        alts.add(" ".join(kin if w == cin else w for w in answer.split(" ")))
    return prompt, answer, sorted(alts - {answer})


def _split_or_drop(d: Draft, pkey: str, golds: list[str], match_key: Any) -> tuple[str, str | None]:
    """("train" | "heldout", None) for a kept draft, or ("", the reason it is dropped)."""
    if any(leaks(pkey, match_key(a)) or leaks(unaccented(pkey), unaccented(match_key(a))) for a in golds):
        return "", "gold in prompt"
    content = [lx for lx in d.lexemes if lx.pos in CONTENT_POS]
    sides = {is_heldout_lexeme(lx.id) for lx in content}
    if len(sides) > 1:
        return "", "mixed train/held-out lexemes"
    split = "heldout" if sides == {True} else "train"
    if split == "heldout" and d.recall:
        return "", "held-out word recall (vocabulary never shown in train)"
    return split, None


def _draft_segments(d: Draft, answer: str, canonicalize: Any) -> list[dict[str, str]]:
    """`meta.segments`: the Dakota form's pieces, or the English answer's words and spaces."""
    segments = d.form.segments() if (d.form and d.answer_language == "dakota") else _english_segments(answer)
    return [
        {"form": canonicalize(s["form"]) if s["kind"] != "space" else " ", "kind": s["kind"]}
        for s in segments
    ]


def _provenance(
    d: Draft, grammar: Grammar, attested: Mapping[str, str], dakota: str
) -> tuple[bool, str, str]:
    """Whether Riggs attests the Dakota, the record's source line, and its weakest review status."""
    rule_ids = d.rule_ids()
    rule_sources = sorted({str(grammar.rules[r]["source"]) for r in rule_ids if r in grammar.rules})
    statuses = [lx.review_status for lx in d.lexemes] + [
        str(grammar.rules[r]["review_status"]) for r in rule_ids if r in grammar.rules
    ]
    is_attested = dakota in attested
    source = "lexicon: " + "; ".join(dict.fromkeys(lx.source for lx in d.lexemes))
    if is_attested:
        source = f"attested: {attested[dakota]}; {source}"
    if rule_sources:
        source += f"; rules: {', '.join(rule_sources)}"
    return is_attested, source, weakest_status(statuses) if statuses else "unverified"


def _draft_record(
    d: Draft, grammar: Grammar, attested: Mapping[str, str], canonicalize: Any, match_key: Any
) -> tuple[dict[str, Any] | None, str | None]:
    """The Contract 1 record of one draft, or (None, the reason it is dropped)."""
    prompt, answer, alternatives = _draft_texts(d, grammar, canonicalize)
    split, dropped = _split_or_drop(
        d, match_key(prompt.replace("\n", " ")), [answer, *alternatives], match_key
    )
    if dropped:
        return None, dropped
    segments = _draft_segments(d, answer, canonicalize)
    if "".join(s["form"] for s in segments) != answer:
        return None, "segments do not rebuild the answer"
    is_attested, source, review_status = _provenance(d, grammar, attested, canonicalize(d.dakota))
    digest = hashlib.sha256((d.family + "\n" + prompt).encode("utf-8")).hexdigest()[:12]
    record = {
        "id": f"dgt-{FAMILY_TAG[d.family]}-{digest}",
        "split": split,
        "family": d.family,
        "difficulty": difficulty_of(d),
        "prompt": prompt,
        "answer": answer,
        "alternatives": alternatives,
        "answer_language": d.answer_language,
        "meta": {
            "stem": canonicalize(d.stem),
            "affixes": [
                {"form": canonicalize(a["form"]), "slot": a["slot"], "rule_id": a["rule_id"]}
                for a in (d.form.affixes if d.form else [])
            ],
            "segments": segments,
            "rule_ids": d.rule_ids(),
            "lexeme_ids": [lx.id for lx in d.lexemes],
            "attested": is_attested,
            "source": source,
            "review_status": review_status,
            "gloss": canonicalize(d.gloss),
        },
    }
    return record, None


def _one_per_prompt(
    by_prompt: dict[str, list[tuple[Draft, dict[str, Any]]]],
    dropped: Counter,
    canonicalize: Any,
    match_key: Any,
) -> list[tuple[str, dict[str, Any]]]:
    """(Dakota, record) of the first draft of each prompt; a prompt with conflicting golds is dropped."""
    kept: list[tuple[str, dict[str, Any]]] = []
    for group in by_prompt.values():
        golds = {match_key(r["answer"]) for _, r in group}
        if len(golds) > 1:
            dropped["conflicting golds for one prompt"] += len(group)
            continue
        if len(group) > 1:
            dropped["duplicate prompt"] += len(group) - 1
        kept.append((canonicalize(group[0][0].dakota), group[0][1]))
    return kept


def _by_split(
    kept: list[tuple[str, dict[str, Any]]], dropped: Counter, match_key: Any
) -> dict[str, list[dict[str, Any]]]:
    """Records by split, sorted by id; a train sentence whose Dakota is also held out is dropped."""
    heldout_dakota = {match_key(dk) for dk, r in kept if r["split"] == "heldout"}
    splits: dict[str, list[dict[str, Any]]] = {"train": [], "heldout": []}
    for dk, record in kept:
        if record["split"] == "train" and match_key(dk) in heldout_dakota:
            dropped["train sentence also in held-out"] += 1
            continue
        splits[record["split"]].append(record)
    for records in splits.values():
        records.sort(key=lambda r: r["id"])
    return splits


def finalise(
    drafts: list[Draft], grammar: Grammar, attested: Mapping[str, str], canonicalize: Any, match_key: Any
) -> tuple[dict[str, list[dict[str, Any]]], Counter]:
    """Split, filter (leaks, conflicts, mixed splits), dedupe, and turn drafts into Contract 1 records."""
    dropped: Counter = Counter()
    by_prompt: dict[str, list[tuple[Draft, dict[str, Any]]]] = defaultdict(list)
    for d in drafts:
        record, reason = _draft_record(d, grammar, attested, canonicalize, match_key)
        if record is None:
            dropped[reason] += 1
            continue
        by_prompt[match_key(record["prompt"].replace("\n", " "))].append((d, record))
    kept = _one_per_prompt(by_prompt, dropped, canonicalize, match_key)
    return _by_split(kept, dropped, match_key), dropped


def _english_segments(text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for i, word in enumerate(text.split(" ")):
        if i:
            out.append({"form": " ", "kind": "space"})
        out.append({"form": word, "kind": "word"})
    return out


def dump_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def split_counts(
    splits: dict[str, list[dict[str, Any]]],
) -> tuple[dict[str, dict[str, dict[str, int]]], dict[str, dict[str, int]]]:
    """Per split: tasks by family and difficulty, and how many are attested or derived."""
    counts: dict[str, dict[str, dict[str, int]]] = {}
    attested_counts: dict[str, dict[str, int]] = {}
    for split, records in splits.items():
        counts[split] = {f: {d: 0 for d in DIFFICULTIES} for f in FAMILIES}
        attested_counts[split] = {"attested": 0, "derived": 0}
        for r in records:
            counts[split][r["family"]][r["difficulty"]] += 1
            attested_counts[split]["attested" if r["meta"]["attested"] else "derived"] += 1
    return counts, attested_counts


def build(out_dir: Path, source_dir: Path = SOURCE_DIR) -> dict[str, Any]:
    """Generate every output file into `out_dir`; return the manifest."""
    from dakota_grammar_translation.orthography import write_table

    out_dir.mkdir(parents=True, exist_ok=True)
    write_table(source_dir / "orthography.yaml", out_dir / "orthography.json")
    if not (OUT_DIR / "orthography.json").is_file():
        write_table(source_dir / "orthography.yaml", OUT_DIR / "orthography.json")
    canonicalize, match_key = _canon()
    lexemes, attestations, skipped = load_lexicon(source_dir / "lexicon.yaml", canonicalize)
    rules, attested_rules = load_rules(source_dir / "rules.yaml", canonicalize)
    rule_ids = [str(r["id"]) for r in rules]
    check_rule_ids(source_dir, rule_ids)
    grammar = Grammar(rules)
    attested = {**attested_rules, **{a.form: a.source for a in attestations}}
    drafts = cap_families(build_drafts(Inputs(grammar, lexemes, attestations, same_split)))
    splits, dropped = finalise(drafts, grammar, attested, canonicalize, match_key)
    check_rule_ids(source_dir, rule_ids, asked=grammar.asked | IMPLIED_RULES)
    for split, records in splits.items():
        (out_dir / f"tasks_{split}.jsonl").write_text(dump_jsonl(records), encoding="utf-8", newline="\n")
    counts, attested_counts = split_counts(splits)
    manifest = {
        "generator": "data/build.py",
        "generator_version": GENERATOR_VERSION,
        "heldout_permille": HELDOUT_PERMILLE,
        "sources": {f"data/riggs/{name}": sha256_file(source_dir / name) for name in SOURCES},
        "files": {
            name: {"sha256": sha256_file(out_dir / name), "bytes": (out_dir / name).stat().st_size}
            for name in ("tasks_train.jsonl", "tasks_heldout.jsonl", "orthography.json")
        },
        "counts": counts,
        "totals": {split: len(records) for split, records in splits.items()},
        "attested": attested_counts,
        "lexemes": {"used": len(lexemes), **{f"skipped: {k}": v for k, v in sorted(skipped.items())}},
        "rules": {"total": len(rules), "active": len(grammar.rules)},
        "dropped": dict(sorted(dropped.items())),
    }
    add_attested_split(manifest)
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
        newline="\n",
    )
    return manifest


def check_rule_ids(source_dir: Path, rule_ids: list[str], asked: Iterable[str] = ()) -> None:
    """A SourceError (one line) if a rule of the file is applied by no builder, or the code uses an id (a
    builder's declaration, or one `asked` of the grammar) the file lacks."""
    problem = rule_id_problems(rule_ids, asked=asked)
    if problem:
        raise SourceError(f"{source_dir / 'rules.yaml'}: {problem}")


ATTESTED_FILES = ("tasks_attested.jsonl", "UNIMORPH_LICENSE.md")


def add_attested_split(manifest: dict[str, Any]) -> None:
    """Record the shipped UniMorph split (`python -m data.import_unimorph` writes it; not rebuilt here, so
    this build needs no external file) in the manifest: files, family × difficulty counts, total."""
    from dakota_grammar_translation.tasks import read_tasks

    path = OUT_DIR / ATTESTED_FILES[0]
    if not path.is_file():
        return
    records = read_tasks(path)
    for name in ATTESTED_FILES:
        manifest["files"][name] = {
            "sha256": sha256_file(OUT_DIR / name),
            "bytes": (OUT_DIR / name).stat().st_size,
        }
    counts = {f: {d: 0 for d in DIFFICULTIES} for f in FAMILIES}
    for r in records:
        counts[r["family"]][r["difficulty"]] += 1
    manifest["counts"]["attested"] = counts
    manifest["totals"]["attested"] = len(records)
    manifest["attested"]["attested"] = {"attested": len(records), "derived": 0}
    manifest["attested_source"] = (
        "UniMorph Dakota (LaFontaine & McKay, 550 Dakota Verbs, 2005; annotated by "
        "E. Chodroff), CC BY-SA 3.0: see UNIMORPH_LICENSE.md"
    )


def summary(manifest: Mapping[str, Any]) -> str:
    """A printed table: family × difficulty per split, attested vs derived, drops."""
    lines = []
    for split in [s for s in ("train", "heldout", "attested") if s in manifest["totals"]]:
        lines.append(f"{split} ({manifest['totals'][split]} tasks)")
        lines.append(f"  {'family':<20}" + "".join(f"{d:>10}" for d in DIFFICULTIES) + f"{'total':>10}")
        for family in FAMILIES:
            row = manifest["counts"][split][family]
            lines.append(
                f"  {family:<20}"
                + "".join(f"{row[d]:>10}" for d in DIFFICULTIES)
                + f"{sum(row.values()):>10}"
            )
        att = manifest["attested"][split]
        lines.append(f"  attested {att['attested']}, derived by rule {att['derived']}")
    total = manifest["totals"]["train"] + manifest["totals"]["heldout"]
    lines.append(f"held-out share: {manifest['totals']['heldout'] / max(total, 1):.1%}")
    lines.append("dropped: " + (", ".join(f"{k} {v}" for k, v in manifest["dropped"].items()) or "none"))
    return "\n".join(lines)


def check(out_dir: Path = OUT_DIR) -> list[str]:
    """Rebuild into a temp dir; the names of committed files that differ (or are missing)."""
    with tempfile.TemporaryDirectory() as tmp:
        manifest = build(Path(tmp))
        print(summary(manifest))
        return [
            name
            for name in OUTPUTS
            if not (out_dir / name).is_file()
            or (out_dir / name).read_bytes() != (Path(tmp) / name).read_bytes()
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.build", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="rebuild in a temp dir and compare with the committed files"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT_DIR, help="output directory (default: the env package data dir)"
    )
    args = parser.parse_args(argv)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        if args.check:
            differ = check(args.out)
            print(
                f"build time: {time.perf_counter() - start:.2f} s wall, {time.process_time() - cpu:.2f} s CPU"
            )
            if differ:
                print(f"FAIL: differs from a fresh build: {', '.join(differ)} (run `python -m data.build`)")
                return 1
            print("OK: committed files are byte-identical to a fresh build")
            return 0
        manifest = build(args.out)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(manifest))
    print(
        f"build time: {time.perf_counter() - start:.2f} s wall, {time.process_time() - cpu:.2f} s CPU; wrote "
        f"{args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
