"""UniMorph Dakota → the `attested` split: verb forms speakers and linguists wrote down, not our rules.

    python -m data.import_unimorph              # write the package's data/tasks_attested.jsonl (+ manifest)
    python -m data.import_unimorph --check      # rebuild in a temp dir; fail if the shipped file differs
    python -m data.import_unimorph --agreement  # our generator vs UniMorph on the verbs both have
    python -m data.import_unimorph --dropped    # the lemmas left out of the split, and why

The source is UniMorph's Dakota file (`dak.tsv`: lemma, form, features; Harlan LaFontaine and Neil McKay,
*550 Dakota Verbs*, Minnesota Historical Society Press, 2005; annotated for UniMorph by Eleanor Chodroff;
licence CC BY-SA 3.0). It is read from `--source` (default ../shared/reference/unimorph-dak/ beside the repo);
the shipped split is committed, so a clone without the source still loads it.

Each present-tense subject cell except the third person singular (which is the lemma the prompt shows) becomes
a morphology task. The spelling is converted to Riggs's letters (`unimorph_to_riggs`); the modern bd (Riggs
md) and an unaccented spelling are accepted as alternatives. Lemmas that our lexicon also has (under the loose
`lemma_key`, which sees through citation in -e, dots and apostrophes on stops, a leading oŋ/uŋ) are left out,
so the split is lemma-disjoint from train and held-out; so are lemmas whose own 3sg form is another word.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tempfile
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from data.build import OUT_DIR, REPO, SOURCE_DIR, dump_jsonl, leaks
from data.grammar import SUBJECT_FEATURE, Grammar, Lexeme
from data.sources import load_lexicon, load_rules

DEFAULT_SOURCE = REPO.parent / "shared" / "reference" / "unimorph-dak"
OUTPUT = "tasks_attested.jsonl"
LICENCE_FILE = "UNIMORPH_LICENSE.md"
CELLS = {
    "V;SG;1;PRS": "1sg",
    "V;SG;2;PRS": "2sg",
    "V;SG;3;PRS": "3sg",
    "V;PL;1+INCL;PRS": "1du",
    "V;PL;1;PRS": "1pl",
    "V;PL;2;PRS": "2pl",
    "V;PL;3;PRS": "3pl",
}
CITATION = (
    "UniMorph Dakota (Harlan LaFontaine and Neil McKay, 550 Dakota Verbs, Minnesota Historical Society "
    "Press, 2005; annotated for UniMorph by Eleanor Chodroff), CC BY-SA 3.0"
)
LICENCE_TEXT = """# Attribution and licence of tasks_attested.jsonl

`tasks_attested.jsonl` is derived from the UniMorph Dakota data (github.com/unimorph/dak):

- Forms: Harlan LaFontaine and Neil McKay, *550 Dakota Verbs*, Minnesota Historical Society Press, 2005.
- Annotation: Eleanor Chodroff, for the UniMorph project.
- Licence: Creative Commons Attribution-ShareAlike 3.0 (CC BY-SA 3.0,
  https://creativecommons.org/licenses/by-sa/3.0/). This file, and any work derived from it, is shared under
  the same licence, separately from the project's other generated data.
- Changes: spelling converted to Riggs's letters (ejectives ḳ' ṭ' ṗ' c̣' → ḳ ṭ ṗ ċ, ṡ ż → ś ź, c and c̣ → ć,
  aspiration dots on p t k dropped, bd → md), third person singular cells dropped, lemmas our own lexicon has
  (under a loose spelling key) dropped, lemmas whose own 3sg form is another word dropped, prompts added
  (`python -m data.import_unimorph`; `--dropped` lists the lemmas left out and why).
"""
UNACCENTED = str.maketrans("áéíóú", "aeiou")


EJECTIVES = {
    "c\u0323'": "ċ",
    "t\u0323'": "ṭ",
    "k\u0323'": "ḳ",
    "p\u0323'": "ṗ",
    "c'": "ċ",
    "t'": "ṭ",
    "k'": "ḳ",
    "p'": "ṗ",
}
"""UniMorph's ejectives (a stop + apostrophe, NFD) → Riggs's dotted letters (Riggs 1852 § 2)."""


def unimorph_to_riggs(text: str) -> str:
    """UniMorph's modern Santee-Sisseton spelling → Riggs 1852 letters (see data/README.md, the orthography
    table).

    Ejectives ḳ' ṭ' ṗ' c̣' → Riggs's ḳ ṭ ṗ ċ (ḳ'u → ḳu); ṡ ż → ś ź; c (plain) and c̣ (aspirated) → ć
    (Riggs writes no aspiration); ṗ ṭ ḳ without an apostrophe mark aspiration there, not Riggs's ejectives,
    so the dot goes (ṭi → ti); bd → md (wabdawa → wamdawa). ḣ, ġ, ŋ, accents are the same."""
    text = unicodedata.normalize("NFD", text)
    ejective = {}
    for i, (modern, riggs) in enumerate(EJECTIVES.items()):
        ejective[f"\x00{i}\x00"] = riggs
        text = text.replace(modern, f"\x00{i}\x00")
    for base in "cC":
        text = text.replace(base + "\u0323", base).replace(base + "\u0307", base)
        text = text.replace(base, base + "\u0301")
    for base in "ptkPTK":
        text = text.replace(base + "\u0323", base).replace(base + "\u0307", base)
    for mark, riggs in ejective.items():
        text = text.replace(mark, riggs)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("ṡ", "ś").replace("Ṡ", "Ś").replace("ż", "ź").replace("Ż", "Ź")
    text = re.sub(r"\bob\b", "om", text)  # 'with': Riggs om, modern ob (Riggs 1852 § 2 notes the b)
    return text.replace("bd", "md").replace("'", "ʼ")


def spelling_key(text: str) -> str:
    """What two spellings of one form share when they differ only in orthography or citation: accents, md/bd,
    the dots and apostrophes on stops (ape / aṗe, ḳu / kʼu), c / ć, and a final e / a / aŋ of each word
    (UniMorph cites ablauting verbs in their e-form: kaġe for kaġa, yatke for yatkaŋ). The hiatus mark after
    other letters stays: sʼa 'to hiss' is not śa 'red'."""
    text = unicodedata.normalize("NFD", text.casefold().translate(UNACCENTED).replace("bd", "md"))
    text = re.sub("([ptkc])[\u0307\u0323\u0301]*['ʼ]?", r"\1", text)
    text = unicodedata.normalize("NFC", text).replace("'", "ʼ")
    return " ".join(re.sub("(aŋ|a|e)$", "", w) for w in text.split())


def lemma_key(text: str) -> str:
    """`spelling_key` without a leading oŋ / uŋ (UniMorph úŋṡida is Riggs's oŋśida): the key that pairs a
    UniMorph lemma with a lexicon verb, for the agreement check and the lemma-disjoint filter."""
    return re.sub("^(oŋ|uŋ)", "", spelling_key(text))


def read_unimorph(source: Path) -> dict[str, dict[str, list[str]]]:
    """lemma → cell (1sg, …) → forms, in file order (UniMorph spelling, NFC)."""
    path = source / "dak.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (pass --source DIR holding UniMorph's dak.tsv)")
    table: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = [unicodedata.normalize("NFC", p.strip()) for p in line.split("\t")]
        if len(parts) == 3 and parts[2] in CELLS:
            table[parts[0]][CELLS[parts[2]]].append(parts[1])
    return table


def _lexicon() -> tuple[list[Lexeme], Grammar]:
    from data.build import _canon

    canonicalize, _ = _canon()
    lexemes, _, _ = load_lexicon(SOURCE_DIR / "lexicon.yaml", canonicalize)
    rules, _ = load_rules(SOURCE_DIR / "rules.yaml", canonicalize)
    return lexemes, Grammar(rules)


def dropped_lemmas(table: dict[str, dict[str, list[str]]], lexemes: Iterable[Lexeme]) -> dict[str, str]:
    """UniMorph lemma → why it gives no attested task: our lexicon has it (under `lemma_key`, so the split is
    lemma-disjoint from train and held-out), or its own 3sg form is another word (ihaḣni beside inaḣni: the
    prompt's lemma cannot yield the gold)."""
    from data.build import _canon

    canonicalize, _ = _canon()
    ours = {lemma_key(lx.form) for lx in lexemes if lx.pos == "verb"}
    dropped: dict[str, str] = {}
    for lemma, cells in table.items():
        riggs_lemma = canonicalize(unimorph_to_riggs(lemma))
        third = [_joined_key(unimorph_to_riggs(f)) for f in cells.get("3sg", [])]
        if not riggs_lemma.strip():
            dropped[lemma] = "empty lemma"
        elif lemma_key(riggs_lemma) in ours:
            dropped[lemma] = "our lexicon has this verb (same lemma key)"
        elif third and _joined_key(riggs_lemma) not in third:
            dropped[lemma] = (
                f"its 3sg form {' / '.join(cells['3sg'])} is not the lemma (a slip in the source)"
            )
    return dropped


def _joined_key(text: str) -> str:
    """`spelling_key` of a lemma or form with its optional parts' brackets and its spaces removed: (kci) wóte
    and kci wóta, iṭuŋṡni and iṭuŋ ṡni are the same citation."""
    return spelling_key(re.sub(r"[()\s]", "", text))


def attested_tasks(table: dict[str, dict[str, list[str]]], lexemes: Iterable[Lexeme]) -> list[dict[str, Any]]:
    """Contract 1 records of split `attested` (sorted by id) from every lemma `dropped_lemmas` keeps."""
    from data.build import _canon

    canonicalize, match_key = _canon()
    dropped = dropped_lemmas(table, lexemes)
    records = []
    for lemma, cells in table.items():
        if lemma in dropped:
            continue
        riggs_lemma = canonicalize(unimorph_to_riggs(lemma))
        for cell, forms in cells.items():
            if cell == "3sg" or not forms:
                continue
            record = _record(riggs_lemma, lemma, cell, forms, canonicalize, match_key)
            if record is not None:
                records.append(record)
    return _merge_same_prompt(records)


def _merge_same_prompt(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Two UniMorph lemmas that differ only in letters Riggs does not distinguish (c / c̣) give one prompt:
    keep the first record, accept the other's forms too, and name both lemmas."""
    by_id: dict[str, dict[str, Any]] = {}
    for record in records:
        first = by_id.setdefault(record["id"], record)
        if first is not record:
            accepted = {*first["alternatives"], record["answer"], *record["alternatives"]} - {first["answer"]}
            first["alternatives"] = sorted(accepted)
            first["meta"]["lexeme_ids"] = sorted(
                {*first["meta"]["lexeme_ids"], *record["meta"]["lexeme_ids"]}
            )
    return sorted(by_id.values(), key=lambda r: r["id"])


def _record(
    lemma: str, raw_lemma: str, cell: str, forms: list[str], canonicalize: Any, match_key: Any
) -> dict[str, Any] | None:
    forms = [f for f in forms if not re.search(r"\d", f)]  # data-entry slips such as uŋ84
    if not forms:
        return None
    answer = canonicalize(unimorph_to_riggs(forms[0]))
    accepted = [canonicalize(unimorph_to_riggs(f)) for f in forms]
    modern = [re.sub(r"\bom\b", "ob", f.replace("md", "bd")) for f in accepted]  # the source's md/bd, om/ob
    alternatives = {*accepted, *modern, *(f.translate(UNACCENTED) for f in accepted)} - {answer}
    prompt = (
        f"Dakota verb: {lemma} (as LaFontaine and McKay write it, in Riggs's letters).\n"
        f"Inflect it for: {SUBJECT_FEATURE[cell]}, present.\nWrite the complete Dakota form."
    )
    key = match_key(prompt.replace("\n", " "))
    if any(leaks(key, match_key(a)) for a in [answer, *alternatives]):
        return None
    digest = hashlib.sha256(("morphology\n" + prompt).encode("utf-8")).hexdigest()[:12]
    return {
        "id": f"dgt-att-{digest}",
        "split": "attested",
        "family": "morphology",
        "difficulty": _difficulty(lemma, answer, cell),
        "prompt": prompt,
        "answer": answer,
        "alternatives": sorted(alternatives),
        "answer_language": "dakota",
        "meta": {
            "stem": lemma,
            "affixes": [],
            "segments": [{"form": answer, "kind": "word"}],
            "rule_ids": [],
            "lexeme_ids": [f"unimorph:{raw_lemma}"],
            "attested": True,
            "source": f"attested: {CITATION}; UniMorph spelling {forms[0]}",
            "review_status": "unreviewed",
            "gloss": SUBJECT_FEATURE[cell],
        },
    }


def _difficulty(lemma: str, answer: str, cell: str) -> str:
    """easy: one prefix; medium: a plural (two affixes); +1 when the pronoun goes inside the verb."""
    score = 2 if cell in ("1pl", "2pl") else 1
    if answer.startswith(lemma[:2]) and not answer.startswith(lemma):
        score += 1
    return ("easy", "medium", "hard", "advanced")[min(score, 4) - 1]


def write(out_dir: Path, source: Path) -> list[dict[str, Any]]:
    lexemes, _ = _lexicon()
    records = attested_tasks(read_unimorph(source), lexemes)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / OUTPUT).write_text(dump_jsonl(records), encoding="utf-8", newline="\n")
    (out_dir / LICENCE_FILE).write_text(LICENCE_TEXT, encoding="utf-8", newline="\n")
    return records


RIGGS_ERA = (
    ("oŋ", "uŋ"),  # oŋśida / úŋṡida: Riggs's oŋ, the modern uŋ
    ("mdaŋ", "maŋ"),  # mdaŋka / maŋke
    ("akapi", "akepi"),  # waśtedakapi / waṡtedakepi: Riggs's a before -pi, the modern e
)
"""Differences between our Riggs-era forms and UniMorph's modern ones that are not errors: (ours, theirs)
spellings; a cell that agrees once one of them is applied counts as agreeing and is listed as Riggs-era."""


def agreement(source: Path) -> tuple[int, int, int, list[str]]:
    """Cells where our generator's form and UniMorph's agree (up to spelling, `spelling_key`, and the
    Riggs-era differences of RIGGS_ERA), the cells compared, the verbs paired, and a line per Riggs-era
    difference and per disagreement. UniMorph lemmas and lexicon verbs pair when their `lemma_key`s are
    equal; where several share a key (hde 'to place' and hde 'to go home'; ie 'to speak' and i 'to
    arrive'), the pairs whose paradigms fit best are compared, each lemma and each verb once. Cells an entry
    declares not built (`verb.no_cells`: the evidence conflicts) are left out."""
    lexemes, grammar = _lexicon()
    verbs = defaultdict(list)
    for lx in lexemes:
        if lx.pos == "verb":
            verbs[lemma_key(lx.form)].append(lx)
    scored = []
    for lemma, cells in sorted(read_unimorph(source).items()):
        for lx in verbs.get(lemma_key(unimorph_to_riggs(lemma)), []):
            hits, era, misses = _compare(grammar, lx, cells)
            scored.append((-(len(hits) + len(era)), lemma, lx.id, hits, era, misses))
    agree = total = 0
    lines: list[str] = []
    used: set[str] = set()
    for _, lemma, lx_id, hits, era, misses in sorted(scored, key=lambda s: s[:3]):
        if lemma in used or lx_id in used:
            continue
        used |= {lemma, lx_id}
        agree += len(hits) + len(era)
        total += len(hits) + len(era) + len(misses)
        lines += [f"{lx_id} {cell}: ours {mine}, UniMorph {theirs} (Riggs-era)" for cell, mine, theirs in era]
        lines += [f"{lx_id} {cell}: ours {mine}, UniMorph {theirs}" for cell, mine, theirs in misses]
    return agree, total, len(used) // 2, sorted(lines)


def _compare(
    grammar: Grammar, lex: Lexeme, cells: dict[str, list[str]]
) -> tuple[list[str], list[tuple], list[tuple]]:
    """(cells that agree, cells that agree up to a Riggs-era difference, cells that disagree)."""
    hits: list[str] = []
    era: list[tuple] = []
    misses: list[tuple] = []
    for cell, forms in sorted(cells.items()):
        if cell in (lex.verb.get("no_cells") or ()):
            continue
        form = grammar.inflect(lex, cell)
        theirs = {spelling_key(unimorph_to_riggs(f)) for f in forms}
        mine = spelling_key(form.text) if form is not None else None
        row = (cell, form.text if form else "(not generated)", " / ".join(forms))
        if mine in theirs:
            hits.append(cell)
        elif mine is not None and any(mine.replace(a, b) in theirs for a, b in RIGGS_ERA if a in mine):
            era.append(row)
        else:
            misses.append(row)
    return hits, era, misses


def check(source: Path, out_dir: Path = OUT_DIR) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp), source)
        return [
            n
            for n in (OUTPUT, LICENCE_FILE)
            if not (out_dir / n).is_file() or (out_dir / n).read_bytes() != (Path(tmp) / n).read_bytes()
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data.import_unimorph", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help="folder holding UniMorph's dak.tsv"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="rebuild in a temp dir and compare with the shipped file"
    )
    mode.add_argument("--agreement", action="store_true", help="print generator-vs-UniMorph agreement")
    mode.add_argument("--dropped", action="store_true", help="print each lemma left out, and why")
    args = parser.parse_args(argv)
    if not (args.source / "dak.tsv").is_file():
        print(
            f"error: {args.source / 'dak.tsv'} not found (pass --source DIR holding UniMorph's dak.tsv)",
            file=sys.stderr,
        )
        return 2
    if args.dropped:
        dropped = dropped_lemmas(read_unimorph(args.source), _lexicon()[0])
        print("\n".join(f"{lemma}: {why}" for lemma, why in sorted(dropped.items())))
        print(f"{len(dropped)} lemmas left out")
        return 0
    if args.agreement:
        agree, total, verbs, lines = agreement(args.source)
        print("\n".join(lines))
        print(
            f"agreement: {agree}/{total} cells ({agree / max(total, 1):.1%}) on the {verbs} verbs both have"
        )
        return 0
    if args.check:
        differ = check(args.source)
        if differ:
            print(
                f"FAIL: differs from a fresh import: {', '.join(differ)} (run `python -m "
                "data.import_unimorph`)"
            )
            return 1
        print("OK: the attested split is byte-identical to a fresh import")
        return 0
    records = write(OUT_DIR, args.source)
    from data.build import build, summary

    print(summary(build(OUT_DIR)))
    print(f"wrote {len(records)} attested tasks to {OUT_DIR / OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
