"""Riggs's canonical orthography: one spelling for every Dakota letter (ARCHITECTURE.md, Contract 2).

The table is curated in `data/riggs/orthography.yaml` (letters, their variants, apostrophes, quotes) and
shipped as the package's `data/orthography.json` (`write_table`, called by `python -m data.build`).
`canonicalize` maps any spelling found in practice (modern č š ž ȟ ǧ, dotted ṡ ż ṅ, OCR ķ ţ, NFD text,
typewriter apostrophes) onto Riggs's letters; `match_key` is the form two answers are compared in.
Pure: imports nothing from verifiers, torch or transformers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import unicodedata2

TABLE_PATH = Path(__file__).parent / "data" / "orthography.json"
TABLE_VERSION = 1
MODIFIER_APOSTROPHE = "\u02bc"
INVISIBLE_MARKS = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
"""Zero-width, soft-hyphen and bidi marks: invisible, never part of a Dakota form,
removed by `canonicalize`."""


def _nfc(text: str) -> str:
    return unicodedata2.normalize("NFC", text)


def _add_variant(mapping: dict[str, str], variant: str, target: str, where: str) -> None:
    """Map `variant` (NFC) to `target`; `where` ("<yaml>: <entry>") names the entry of a conflict."""
    variant = _nfc(variant)
    if variant in mapping and mapping[variant] != target:
        raise ValueError(f"{where}: variant {variant!r} maps to both {mapping[variant]!r} and {target!r}")
    mapping[variant] = target


def _add_letter(
    entry: dict[str, Any], letters: list[dict[str, Any]], mapping: dict[str, str], yaml_path: str | Path
) -> None:
    """One curated letter (skipped when rejected): its lower and upper case, each with its variants."""
    if entry.get("review_status") == "rejected":
        return
    letter = _nfc(entry["letter"])
    variants = [_nfc(v) for v in entry.get("variants") or []]
    for v in variants:
        if v.isascii():
            raise ValueError(
                f"{yaml_path}: letter {letter!r}: ASCII variant {v!r} would rewrite English text"
            )
    for case in (str.lower, str.upper):
        target = case(letter)
        cased = sorted({case(v) for v in variants})
        if not letters or letters[-1]["letter"] != target:
            letters.append({"letter": target, "variants": cased})
        for v in cased:
            _add_variant(mapping, v, target, f"{yaml_path}: letter {letter!r}")


def build_table(yaml_path: str | Path) -> dict[str, Any]:
    """Turn the curated YAML into the JSON table: canonical letters (with upper case) and one variant map."""
    import yaml  # only the generator needs it; scoring reads the JSON

    doc = yaml.safe_load(Path(yaml_path).read_text(encoding="utf-8"))
    letters: list[dict[str, Any]] = []
    mapping: dict[str, str] = {}
    for entry in doc["letters"]:
        _add_letter(entry, letters, mapping, yaml_path)
    for section in ("apostrophes", "quotes"):
        block = doc[section]
        for mark in block["marks"]:
            _add_variant(mapping, mark, _nfc(block["target"]), f"{yaml_path}: {section}")
    canon = {item["letter"] for item in letters}
    bad = sorted(v for v in mapping if v in canon)
    if bad:
        raise ValueError(f"{yaml_path}: variants that are also canonical letters (not idempotent): {bad}")
    return {
        "version": TABLE_VERSION,
        "source": "data/riggs/orthography.yaml",
        "letters": letters,
        "map": dict(sorted(mapping.items())),
    }


def write_table(yaml_path: str | Path, json_path: str | Path = TABLE_PATH) -> Path:
    """Write `build_table(yaml_path)` as deterministic JSON (sorted keys, UTF-8, trailing newline)."""
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(build_table(yaml_path), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    json_path.write_text(text, encoding="utf-8")
    return json_path


@lru_cache(maxsize=1)
def load_table() -> dict[str, Any]:
    """The packaged table; a clear error if it was not generated."""
    if not TABLE_PATH.is_file():
        raise FileNotFoundError(
            f"orthography table missing: {TABLE_PATH} (generate it with `python -m data.build`)"
        )
    return json.loads(TABLE_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _compiled() -> tuple[dict[str, str], re.Pattern[str]]:
    """The variant map and one regex matching any variant (longest first)."""
    mapping = load_table()["map"]
    return mapping, re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))


def canonicalize(text: str) -> str:
    """NFC, invisible marks dropped, variant letters → Riggs's letters, apostrophes → ʼ, curly quotes → ",
    whitespace collapsed, trimmed.

    Case is kept. Idempotent: canonicalize(canonicalize(x)) == canonicalize(x).
    """
    mapping, variants = _compiled()
    text = _nfc(INVISIBLE_MARKS.sub("", text))
    if variants.search(text):
        text = _nfc(variants.sub(lambda m: mapping[m.group(0)], text))
    return " ".join(text.split())


def _is_edge_punctuation(char: str) -> bool:
    return char == MODIFIER_APOSTROPHE or char.isspace() or unicodedata2.category(char).startswith("P")


def match_key(text: str) -> str:
    """`canonicalize` + casefold + punctuation (and ʼ) stripped at both ends: the form "exact" compares."""
    return key_of_canonical(canonicalize(text))


def key_of_canonical(text: str) -> str:
    """`match_key` of a text that is already canonical (skips the second canonicalisation)."""
    key = text.casefold()
    start, end = 0, len(key)
    while start < end and _is_edge_punctuation(key[start]):
        start += 1
    while end > start and _is_edge_punctuation(key[end - 1]):
        end -= 1
    return key[start:end]


def variants_of(letter: str) -> list[str]:
    """The non-canonical spellings the table maps onto `letter` (e.g. 'ś' → ['š', 'ṡ'])."""
    for item in load_table()["letters"]:
        if item["letter"] == letter:
            return list(item["variants"])
    return []


def canonical_letters() -> list[str]:
    """Every canonical letter of the table, lower and upper case."""
    return [item["letter"] for item in load_table()["letters"]]


# -- Riggs ⇄ modern Santee-Sisseton spelling (data/README.md, "Riggs and modern spelling") ------------------
# One row per correspondence: (Riggs 1852, modern). Riggs writes no aspiration,
# so modern čh kh ph th (and kȟ pȟ tȟ) all become Riggs's plain letters,
# and Riggs → modern cannot restore it. Longest modern spelling first.
RIGGS_MODERN = (
    ("ċ", "č'"),
    ("ḳ", "k'"),
    ("ṗ", "p'"),
    ("ṭ", "t'"),
    ("ć", "č"),
    ("ś", "š"),
    ("ź", "ž"),
    ("ḣ", "ȟ"),
    ("ġ", "ǧ"),
    ("md", "bd"),
    ("ʼ", "'"),
)
ASPIRATED = (("čh", "č"), ("kȟ", "k"), ("pȟ", "p"), ("tȟ", "t"), ("kh", "k"), ("ph", "p"), ("th", "t"))
_EJECTIVE_APOSTROPHES = ("'", "\u2019", "\u02bc")


def _replace_all(text: str, pairs: list[tuple[str, str]]) -> str:
    pattern = re.compile(
        "|".join(re.escape(a) for a, _ in sorted(pairs, key=lambda p: len(p[0]), reverse=True))
    )
    table = dict(pairs)
    return pattern.sub(lambda m: table[m.group(0)], text)


def to_modern(text: str) -> str:
    """Riggs's letters → modern Santee-Sisseton letters (ś → š, ċ → č', md → bd, …), after `canonicalize`.
    Pure and deterministic; aspiration, which Riggs does not write, is not invented."""
    pairs = [(riggs, modern) for riggs, modern in RIGGS_MODERN]
    pairs += [(riggs.upper(), modern.upper()) for riggs, modern in RIGGS_MODERN if riggs != "ʼ"]
    # om 'with' (Riggs § 2) as a word of its own, not the end of ḳom (→ k'om, whose apostrophe is no word end)
    return _nfc(re.sub(r"(?<![\w'ʼ’])om\b", "ob", _replace_all(canonicalize(text), pairs)))


def to_riggs(text: str) -> str:
    """Modern Santee-Sisseton letters → Riggs's letters (š → ś, k' → ḳ, kh → k, bd → md, ob → om, …),
    canonical.

    An apostrophe after c/č/k/p/t is read as the modern ejective mark (Riggs's ċ ḳ ṗ ṭ);
    elsewhere it stays the hiatus mark ʼ. Only meant for Dakota text: English "th" would lose its h."""
    text = _nfc(text)
    pairs: list[tuple[str, str]] = []
    for riggs, modern in RIGGS_MODERN[:4]:
        base = modern[0]
        for mark in _EJECTIVE_APOSTROPHES:
            pairs += [(base + mark, riggs), (base.upper() + mark, riggs.upper())]
    pairs += [("c" + m, "ċ") for m in _EJECTIVE_APOSTROPHES]
    pairs += [*ASPIRATED, *((a.capitalize(), b.upper()) for a, b in ASPIRATED)]
    pairs += [(modern, riggs) for riggs, modern in RIGGS_MODERN[4:] if riggs != "ʼ"]
    pairs += [(modern.upper(), riggs.upper()) for riggs, modern in RIGGS_MODERN[4:] if riggs != "ʼ"]
    return canonicalize(re.sub(r"\bob\b", "om", _replace_all(text, pairs)))


def _looks_like_path(text: str) -> bool:
    """A path rather than Dakota text: `-` (stdin), a `/`, or one word with a file extension (`notes.txt`)."""
    return text == "-" or "/" in text or re.fullmatch(r"[\w.-]+\.[A-Za-z0-9]{1,5}", text) is not None


def _convert_stream(lines: Iterator[str], convert: Callable[[str], str]) -> None:
    """Convert and print line by line (memory stays one line), stopping quietly when the reader goes."""
    import os
    import sys

    try:
        for line in lines:
            sys.stdout.write(convert(line.rstrip("\r\n")) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `… | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    """`python -m dakota_grammar_translation.orthography --to modern|riggs TEXT_OR_FILE`."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m dakota_grammar_translation.orthography",
        description="Convert Dakota text between Riggs's letters and modern spelling.",
    )
    parser.add_argument("--to", choices=("modern", "riggs"), required=True, help="target spelling")
    parser.add_argument(
        "text", help="Dakota text, or a path to a UTF-8 text file (converted line by line; - reads stdin)"
    )
    args = parser.parse_args(argv)
    convert = to_modern if args.to == "modern" else to_riggs
    path = Path(args.text)
    if not path.is_file() and _looks_like_path(args.text) and args.text != "-":
        why = "not a regular file" if path.exists() else "no such file"
        print(f"error: {path}: {why} (to convert the text itself, write it without '/')", file=sys.stderr)
        return 2
    if not path.is_file() and args.text != "-":
        _convert_stream(iter([args.text]), convert)
        return 0
    try:
        if args.text == "-":
            _convert_stream(iter(sys.stdin), convert)
        else:
            with path.open(encoding="utf-8") as f:
                _convert_stream(iter(f), convert)
    except UnicodeDecodeError:
        print(f"error: {path} is not UTF-8 text", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
