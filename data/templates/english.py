"""The English side of the tasks: gloss senses, vocabulary lines, synonyms, other readings of one form."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from data.grammar import Lexeme, english_verb, with_object

SENSE_STOPWORDS = {
    "something",
    "someone",
    "one",
    "by",
    "the",
    "a",
    "an",
    "thing",
    "place",
    "back",
    "there",
    "here",
    "home",
    "for",
}
NUMBER_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
}
# Verbs that take a person as object in a sensible English sentence although their lexicon `object` features
# do not list "human" (kaġa: Riggs § 15 mayakaġa 'thou madest me'; kaśka: § 106 'tied him').
PERSON_OBJECT_VERBS = {"make", "tie", "hit", "lay down", "show"}


def gloss_meanings(lex: Lexeme) -> list[str]:
    """The meanings a gloss lists, parenthesised remarks removed: "to take hold of, to catch" → both."""
    bare = re.sub(r"\bbe \(([^)]*)\)", r"be \1", lex.gloss)
    parts = (" ".join(p.split()) for p in re.split(r"[;,]", re.sub(r"\([^)]*\)", "", bare)))
    return [p for p in dict.fromkeys(parts) if p]


def gloss_parts(lex: Lexeme) -> list[str]:
    """Each meaning a gloss lists ("to take hold of, to catch" → two), plus the English the other tasks
    use."""
    parts = gloss_meanings(lex)
    if lex.pos == "verb":
        parts.append(f"to {lex.english['base']}")
    elif lex.english.get("singular"):
        parts.append(str(lex.english["singular"]))
    return [p for p in dict.fromkeys(parts) if p]


def gloss_senses(lex: Lexeme) -> list[str]:
    """The 'to …' senses of a verb's gloss: "to take hold of, to catch" → both."""
    return [m for m in gloss_meanings(lex) if m.startswith("to ")]


def verb_meaning(lex: Lexeme) -> str:
    """A verb's vocabulary line: the English the golds use first ("to pity"), then the gloss's other
    senses."""
    first = f"to {lex.english['base']}"
    return ", ".join([first, *(s for s in gloss_senses(lex) if s != first)])


def vocab_line(lexemes: Iterable[Lexeme]) -> str:
    """ "Vocabulary: mani = to walk; …" for the words a prompt needs."""
    parts = []
    for lex in lexemes:
        meaning = verb_meaning(lex) if lex.pos == "verb" else str(lex.english.get("singular") or lex.gloss)
        parts.append(f"{lex.form} = {meaning}")
    return "Vocabulary: " + "; ".join(parts)


def third_person(base: str) -> str:
    """English third person singular of a verb phrase: "take hold of" → "takes hold of"."""
    head, _, tail = base.partition(" ")
    irregular = {"be": "is", "have": "has", "do": "does", "go": "goes"}
    if head in irregular:
        head = irregular[head]
    elif head.endswith(("s", "sh", "ch", "x", "z", "o")):
        head += "es"
    elif head.endswith("y") and head[-2:-1] not in "aeiou":
        head = head[:-1] + "ies"
    else:
        head += "s"
    return f"{head} {tail}".strip()


def synonym_lexemes(lex: Lexeme) -> list[Lexeme]:
    """The verb with its English replaced by each short synonym its gloss lists (for accepted alternatives).

    Senses with objects or qualifiers built in ("to kill by shooting", "to place in something") are skipped:
    they do not take an object or a tense the way the English templates need."""
    if lex.pos != "verb":
        return []
    out: list[Lexeme] = []
    for sense in gloss_senses(lex):
        base = sense[3:]
        words = base.split(" ")
        if base == lex.english["base"] or len(words) > 3 or set(words) & SENSE_STOPWORDS:
            continue
        if lex.is_copula_verb != (words[0] == "be"):
            continue
        out.append(replace(lex, english={"base": base, "third": third_person(base)}))
    return out


def takes_person_object(lex: Lexeme) -> bool:
    """Build 'me' / 'you' / 'them' object forms of this verb? Only where the English makes sense with a person
    ("he sees me", not "he drinks me" or "he wins you")."""
    if not lex.verb.get("transitive") or lex.verb.get("class") == "stative":
        return False
    return "human" in (lex.verb.get("object") or []) or str(lex.english.get("base")) in PERSON_OBJECT_VERBS


def other_readings(lex: Lexeme, subject: str, obj: str | None, *, future: bool, negative: bool) -> list[str]:
    """The other English readings of the same Dakota form: ni-…-pi is "they … you" or "he … you all";
    uŋ-… on a verb that takes a person object is also "he/they … us" (uŋ as the object pronoun)."""

    def reading(subj: str, person: str) -> str:
        return with_object(english_verb(lex, subj, future=future, negative=negative), lex, person)

    if obj == "2sg" and subject == "3pl":
        return [reading("3sg", "you all")]
    if obj is None and subject in ("1du", "1pl") and takes_person_object(lex):
        return [
            reading("3sg", "us"),
            reading("3pl" if subject == "1pl" else "3sg", "us two" if subject == "1du" else "us"),
        ]
    return []


def number_hidden(noun: Lexeme) -> bool:
    """Does the noun's English not show number (deer, fish, elk, grouse)? Then "the fish will go" could be one
    fish or several, and a sentence whose Dakota shows number (-pi, wića) is not built from it."""
    return noun.english.get("plural") in (None, noun.english.get("singular"))


def sentence_case(english: str) -> str:
    return english[0].upper() + english[1:] + "."
