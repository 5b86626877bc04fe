"""Verb tasks: every inflected form (morphology, translation, reverse translation), commands, the dative."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from data.grammar import (
    DATIVE_RULES,
    ENGLISH_PARTICLES,
    IMPERATIVE_RULES,
    OBJECT_FEATURE,
    OBJECTS,
    PERSON_RULES,
    SUBJECT_FEATURE,
    SUBJECTS,
    TENSE_RULES,
    Grammar,
    Lexeme,
    english_alternatives,
    english_plain,
    english_verb,
    with_object,
)
from data.templates.draft import Draft, form_draft
from data.templates.english import other_readings, synonym_lexemes, takes_person_object, vocab_line

RULE_IDS = (*PERSON_RULES, *TENSE_RULES, *IMPERATIVE_RULES, *DATIVE_RULES)
"""The rule ids `verb_drafts` applies (all through `Grammar.inflect`, `imperative`, `dative`)."""


def inflection_cells(lex: Lexeme) -> Iterator[tuple[str | None, str, bool, bool]]:
    """(object, subject, future, negative) of each cell built for a verb (no future negative + object)."""
    objects: list[str | None] = [None]
    if takes_person_object(lex):
        objects += list(OBJECTS)
    for obj in objects:
        for subject in SUBJECTS:
            for future, negative in ((False, False), (True, False), (False, True), (True, True)):
                if obj is not None and negative and future:
                    continue
                yield obj, subject, future, negative


def cell_english(lex: Lexeme, subject: str, obj: str | None, *, future: bool, negative: bool) -> str:
    """The English of one cell: 'he sees', 'they will not see you', …"""
    if obj is not None:
        return with_object(english_verb(lex, subject, future=future, negative=negative), lex, obj)
    return english_plain(lex, subject, future=future, negative=negative)


def cell_features(subject: str, obj: str | None, *, future: bool, negative: bool) -> list[str]:
    """The features a morphology prompt asks for: subject, object, future, negative."""
    features = [SUBJECT_FEATURE[subject]]
    if obj is not None:
        features.append(OBJECT_FEATURE[obj])
    if future:
        features.append("future")
    if negative:
        features.append("negative")
    return features


def cell_alternatives(
    lex: Lexeme, english: str, subject: str, obj: str | None, *, future: bool, negative: bool
) -> list[str]:
    """Accepted English: contractions, synonyms, "… it" (transitive verb, no object), other readings."""
    alternatives = english_alternatives(english)
    for synonym in synonym_lexemes(lex):
        alt = cell_english(synonym, subject, obj, future=future, negative=negative)
        alternatives += [alt, *english_alternatives(alt)]
    if obj is None and lex.verb.get("transitive"):
        alternatives += [
            f"{e} it"
            for e in [english, *alternatives]
            if e.rsplit(" ", 1)[-1] not in (*ENGLISH_PARTICLES, "there", "home", "it")
        ]
    for reading in other_readings(lex, subject, obj, future=future, negative=negative):
        alternatives += [reading, *english_alternatives(reading)]
    return alternatives


def cell_drafts(
    grammar: Grammar, lex: Lexeme, subject: str, obj: str | None, *, future: bool, negative: bool
) -> list[Draft]:
    """Morphology, translation and reverse translation of one inflected form (none if it is not built)."""
    form = grammar.inflect(lex, subject, obj, future=future, negative=negative)
    if form is None:
        return []
    english = cell_english(lex, subject, obj, future=future, negative=negative)
    features = cell_features(subject, obj, future=future, negative=negative)
    text = form.text
    alternatives = cell_alternatives(lex, english, subject, obj, future=future, negative=negative)
    same_english = {"2sg": "2pl", "1pl": "1du"}.get(subject)
    other = same_english and grammar.inflect(lex, same_english, obj, future=future, negative=negative)
    you_all = [other.text] if other else []
    vocab = vocab_line([lex])
    task = partial(Draft, form=form, stem=lex.form, lexemes=[lex], gloss=english, dakota=text)
    return [
        task(
            family="morphology",
            prompt=f"Dakota verb: {lex.form} ({lex.gloss}).\nInflect it for: {', '.join(features)}.\n"
            "Write the complete Dakota form.",
            answer=text,
            alternatives=[],
            answer_language="dakota",
        ),
        task(
            family="translation",
            prompt=f"Translate this Dakota into English: {text}\n{vocab}",
            answer=english,
            alternatives=alternatives,
            answer_language="english",
        ),
        task(
            family="reverse_translation",
            prompt=f"Translate into Dakota: {english}.\n{vocab}",
            answer=text,
            alternatives=you_all,
            answer_language="dakota",
        ),
    ]


def command_drafts(grammar: Grammar, lex: Lexeme) -> list[Draft]:
    """The command to one person and to several (wo / po), as reverse translation."""
    drafts: list[Draft] = []
    for plural in (False, True):
        form = grammar.imperative(lex, plural)
        if form is None:
            continue
        who = "several people" if plural else "one person"
        command = str(lex.english["base"])
        command = with_object(command, lex, "it") if lex.verb.get("transitive") else command
        drafts.append(
            form_draft(
                family="reverse_translation",
                prompt=f"Give this command in Dakota, said to {who}: {command}!\n{vocab_line([lex])}",
                form=form,
                lex=lex,
                gloss=f"{command}! (said to {who})",
            )
        )
    return drafts


def dative_drafts(grammar: Grammar, lex: Lexeme) -> list[Draft]:
    """The dative form ('… for someone') as morphology, when the verb has one."""
    form = grammar.dative(lex)
    if form is None:
        return []
    return [
        form_draft(
            family="morphology",
            prompt=f"Dakota verb: {lex.form} ({lex.gloss}).\nDerive the dative form meaning "
            f'"{lex.gloss} for someone" (the dative prefix goes in the pronoun slot).',
            form=form,
            lex=lex,
            gloss=f"{lex.gloss} for someone",
        )
    ]


def verb_drafts(grammar: Grammar, verbs: list[Lexeme]) -> list[Draft]:
    """Per verb: every inflected cell (three tasks each), then its commands, then its dative."""
    drafts: list[Draft] = []
    for lex in verbs:
        for obj, subject, future, negative in inflection_cells(lex):
            drafts += cell_drafts(grammar, lex, subject, obj, future=future, negative=negative)
        drafts += command_drafts(grammar, lex)
        drafts += dative_drafts(grammar, lex)
    return drafts
