"""One orthography table per language: which letters are special and which variant spellings fold onto them.

Pure. `dakota` reuses the Dakota environment's table (Riggs's letters and their variant spellings);
`english` has no special letters; `auto` takes the non-ASCII letters found in the corpus's own text (for a
language such as Stoney Nakoda whose table we do not ship: nothing is invented, the letters come from the
data); a JSON file `{"special": "...", "variants": {"č": "ć"}}` gives any other table.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Orthography:
    """The special letters of a language and the variant spellings that count as those letters."""

    language: str
    special: str = ""
    """The language's special letters (both cases), canonical spelling."""
    variants: Mapping[str, str] = field(default_factory=dict)
    """Variant spelling → canonical letter (e.g. 'č' → 'ć')."""

    def canonicalize(self, text: str) -> str:
        """NFC, variants → canonical letters, whitespace collapsed, trimmed. Case is kept."""
        text = unicodedata.normalize("NFC", text)
        for variant in sorted(self.variants, key=len, reverse=True):
            if variant in text:
                text = text.replace(variant, self.variants[variant])
        return " ".join(unicodedata.normalize("NFC", text).split())

    def special_chars(self, text: str) -> list[str]:
        """The special letters of `text` (canonicalised, case-folded), in order."""
        specials = set(self.special.casefold())
        return [c for c in self.canonicalize(text).casefold() if c in specials]

    def as_dict(self) -> dict[str, Any]:
        """The table as it travels inside each task record."""
        return {"language": self.language, "special": self.special, "variants": dict(self.variants)}


def dakota() -> Orthography:
    """Riggs's Dakota letters and variants, from `dakota_grammar_translation.orthography`."""
    from dakota_grammar_translation import orthography

    return Orthography(
        "dakota", "".join(orthography.canonical_letters()), dict(orthography.load_table()["map"])
    )


def from_texts(language: str, texts: Iterable[str]) -> Orthography:
    """`auto`: every non-ASCII letter (NFC) that occurs in `texts`, both cases, sorted."""
    letters: set[str] = set()
    for text in texts:
        for char in unicodedata.normalize("NFC", text):
            if not char.isascii() and (char.isalpha() or unicodedata.category(char) == "Lm"):
                letters.update({char, char.upper(), char.lower()})
    return Orthography(language, "".join(sorted(letters)))


def from_file(language: str, path: str | Path) -> Orthography:
    """A table from JSON: {"special": "ćŋś…", "variants": {"č": "ć", …}}."""
    try:
        table = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        why = err.__class__.__name__
        raise ValueError(f"orthography table {path}: not a UTF-8 JSON file ({why})") from None
    if not isinstance(table, dict) or not isinstance(table.get("variants", {}), dict):
        raise ValueError(f'orthography table {path}: needs an object {{"special": "…", "variants": {{…}}}}')
    return Orthography(language, str(table.get("special", "")), dict(table.get("variants", {})))


def from_dict(table: Mapping[str, Any] | None) -> Orthography:
    """The inverse of `Orthography.as_dict` (a task's `orthography` field); None → no special letters."""
    if not table:
        return Orthography("unknown")
    return Orthography(
        str(table.get("language", "")), str(table.get("special", "")), dict(table.get("variants", {}))
    )


def resolve(language: str, table: str | None, texts: Iterable[str] = ()) -> Orthography:
    """The table for `language`: `table` names one ("dakota" | "english" | "none" | "auto" | a JSON path);
    None picks by language name ("dakota" → Dakota, anything else → auto from `texts`)."""
    choice = (table or ("dakota" if language.casefold() == "dakota" else "auto")).strip()
    if choice == "dakota":
        return dakota()
    if choice in ("english", "none"):
        return Orthography(language)
    if choice == "auto":
        return from_texts(language, texts)
    if not Path(choice).is_file():
        raise ValueError(f"orthography table {choice!r}: use dakota, english, none, auto or a JSON file path")
    return from_file(language, choice)
