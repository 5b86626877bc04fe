"""Reading the curated sources (data/riggs/*.yaml) into lexemes, attested forms and rules, with one-line errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from data.grammar import Lexeme


class SourceError(ValueError):
    """A source file is malformed; the message names the file and the entry."""


def load_yaml(path: Path, key: str) -> list[dict[str, Any]]:
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    try:
        doc = yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except yaml.YAMLError as exc:
        raise SourceError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise SourceError(f"{path}: expected a top-level `{key}:` list")
    return doc[key]


@dataclass(frozen=True)
class Attestation:
    """A form Riggs quotes, listed under a lexicon entry."""

    lexeme: Lexeme
    form: str
    gloss: str
    source: str


def load_lexicon(path: Path, canonicalize: Any) -> tuple[list[Lexeme], list[Attestation], Counter]:
    """Non-rejected lexemes (forms canonicalised), the forms Riggs quotes, and skip counts."""
    lexemes: list[Lexeme] = []
    attested: list[Attestation] = []
    skipped: Counter = Counter()
    seen: set[str] = set()
    for n, entry in enumerate(load_yaml(path, "entries"), 1):
        for key in ("id", "form", "pos", "gloss", "source", "review_status"):
            if not isinstance(entry, dict) or not entry.get(key):
                raise SourceError(
                    f"{path}: entry {n} ({entry.get('id', '?') if isinstance(entry, dict) else '?'}): "
                    f"missing `{key}`"
                )
        if entry["id"] in seen:
            raise SourceError(f"{path}: entry {n}: duplicate id {entry['id']!r}")
        seen.add(entry["id"])
        if entry["review_status"] == "rejected":
            skipped["rejected"] += 1
            continue
        english = entry.get("english") or {}
        if entry["pos"] == "verb" and not (isinstance(entry.get("verb"), dict) and english.get("base")):
            skipped["verb without verb/english fields"] += 1
            continue
        if entry["pos"] == "noun" and not english.get("singular"):
            skipped["noun without english.singular"] += 1
            continue
        verb = entry.get("verb") or {}
        if "dative" in verb and not isinstance(verb["dative"], bool):
            raise SourceError(f"{path}: entry {n} ({entry['id']}): verb.dative must be true or false")
        if verb.get("e_final", "fixed") not in ("fixed", "ablauting"):
            raise SourceError(f"{path}: entry {n} ({entry['id']}): verb.e_final must be fixed or ablauting")
        if "un_index" in verb and not (
            isinstance(verb["un_index"], int)
            and not isinstance(verb["un_index"], bool)
            and 0 <= verb["un_index"] <= int(verb.get("affix_index", 0))
        ):
            raise SourceError(
                f"{path}: entry {n} ({entry['id']}): verb.un_index must be an int in 0..affix_index"
            )
        lexeme = Lexeme(
            id=entry["id"],
            form=canonicalize(entry["form"]),
            pos=entry["pos"],
            gloss=str(entry["gloss"]),
            english=english,
            verb=verb,
            animate=bool(entry.get("animate")),
            source=str(entry["source"]),
            review_status=str(entry["review_status"]),
            kin_term=bool(entry.get("kin_term")),
            features=tuple(entry.get("features") or ()),
            countable=bool(entry.get("countable", True)),
            diminutive=entry.get("diminutive"),
        )
        lexemes.append(lexeme)
        for att in entry.get("attested") or []:
            if isinstance(att, dict) and att.get("form") and att.get("gloss"):
                attested.append(
                    Attestation(
                        lexeme,
                        canonicalize(att["form"]),
                        str(att["gloss"]),
                        str(att.get("source") or entry["source"]),
                    )
                )
    return lexemes, attested, skipped


def load_rules(path: Path, canonicalize: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """All rules (forms canonicalised) and the Dakota example outputs Riggs quotes → their source."""
    rules = load_yaml(path, "rules")
    attested: dict[str, str] = {}
    seen: set[str] = set()
    for n, rule in enumerate(rules, 1):
        for key in ("id", "name", "description", "operation", "source", "review_status"):
            if not isinstance(rule, dict) or key not in rule:
                raise SourceError(f"{path}: rule {n}: missing `{key}`")
        if rule["id"] in seen:
            raise SourceError(f"{path}: rule {n}: duplicate id {rule['id']!r}")
        seen.add(rule["id"])
        if not isinstance(rule["operation"], dict) or "type" not in rule["operation"]:
            raise SourceError(f"{path}: rule {rule['id']}: `operation` needs a `type`")
        if isinstance(rule["operation"].get("form"), str):
            rule["operation"]["form"] = canonicalize(rule["operation"]["form"])
        if rule["review_status"] == "rejected":
            continue
        for ex in rule.get("examples") or []:
            if str(ex.get("source", "")).startswith("Riggs"):
                attested[canonicalize(ex["output"])] = str(ex["source"])
    return rules, attested
