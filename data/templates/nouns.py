"""Noun-phrase tasks: articles, possession, diminutive, adjectives and numerals after the noun."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from data.grammar import NOUN_PHRASE_RULES, Form, Grammar, Lexeme, with_article
from data.templates.draft import Draft, keep
from data.templates.english import NUMBER_WORDS, vocab_line

RULE_IDS = (*NOUN_PHRASE_RULES, "numeral-after-noun")
"""The rule ids `noun_drafts` applies (`Grammar.noun_phrase`, and the numeral after the noun here)."""


class NounPhrase(NamedTuple):
    """One phrase built on a noun, with its English."""

    form: Form | None
    english: str
    alternatives: list[str]
    lexemes: list[Lexeme]
    extra_words: int


def adjective_phrases(
    grammar: Grammar, noun: Lexeme, sing: str, adjectives: list[Lexeme]
) -> list[NounPhrase]:
    """'the ADJ N' for a sample of the adjectives that describe the noun's class (the adjective's lexicon
    `subject` list)."""
    phrases: list[NounPhrase] = []
    for adj in adjectives:
        if not adj.selects("subject", noun) or not keep(f"adj:{noun.id}:{adj.id}", 500):
            continue
        pred = str(adj.english["base"])[3:]
        form = grammar.noun_phrase(noun, "definite", adjective=adj)
        phrases.append(NounPhrase(form, f"the {pred} {sing}", [], [noun, adj], 1))
    return phrases


def numeral_phrases(
    grammar: Grammar, noun: Lexeme, sing: str, plural: str, numerals: list[Lexeme]
) -> list[NounPhrase]:
    """'N NUM' (numeral after the noun) for a sample of the numerals, countable nouns only."""
    phrases: list[NounPhrase] = []
    for num in numerals:
        value = num.english.get("value")
        if not (
            isinstance(value, int)
            and noun.countable
            and grammar.has("numeral-after-noun")
            and keep(f"num:{noun.id}:{num.id}", 400)
        ):
            continue
        form = Form(words=[[(noun.form, "stem")], [(num.form, "word")]], rule_ids=["numeral-after-noun"])
        word = NUMBER_WORDS.get(value, num.gloss)
        phrases.append(NounPhrase(form, f"{word} {sing if value == 1 else plural}", [], [noun, num], 1))
    return phrases


def noun_phrases(
    grammar: Grammar, noun: Lexeme, adjectives: list[Lexeme], numerals: list[Lexeme]
) -> list[NounPhrase]:
    """Every phrase built on one noun: articles, possession, diminutive (animate), adjectives, numerals."""
    sing = str(noun.english["singular"])
    plural = str(noun.english.get("plural") or sing)
    phrases = [
        NounPhrase(grammar.noun_phrase(noun, "definite"), with_article(sing, "the"), [], [noun], 0),
        NounPhrase(grammar.noun_phrase(noun, "indefinite"), with_article(sing, "a"), [], [noun], 0),
        NounPhrase(grammar.noun_phrase(noun, "mitawa"), f"my {sing}", [], [noun], 0),
        NounPhrase(grammar.noun_phrase(noun, "nitawa"), f"your {sing}", [], [noun], 0),
        NounPhrase(
            grammar.noun_phrase(noun, "tawa"), f"his {sing}", [f"her {sing}", f"its {sing}"], [noun], 0
        ),
    ]
    if noun.animate:
        phrases.append(NounPhrase(grammar.noun_phrase(noun, "diminutive"), f"little {sing}", [], [noun], 0))
    phrases += adjective_phrases(grammar, noun, sing, adjectives)
    phrases += numeral_phrases(grammar, noun, sing, plural, numerals)
    return phrases


def noun_phrase_drafts(noun: Lexeme, phrase: NounPhrase) -> list[Draft]:
    """A built phrase as a syntax (several words) or morphology (one word) task, and a translation task."""
    form = phrase.form
    if form is None:
        return []
    text, english = form.text, phrase.english
    vocab = vocab_line(phrase.lexemes)
    if form.words and len(form.words) > 1:
        family = "syntax"
        prompt = f"Say this in Dakota, putting every word in its right place: {english}\n{vocab}"
    else:
        family = "morphology"
        prompt = f"Dakota noun: {noun.form} ({noun.english['singular']}).\nForm the word for: {english}."
    task = partial(
        Draft,
        form=form,
        stem=noun.form,
        lexemes=phrase.lexemes,
        gloss=english,
        dakota=text,
        extra_words=phrase.extra_words,
    )
    return [
        task(family=family, prompt=prompt, answer=text, alternatives=[], answer_language="dakota"),
        task(
            family="translation",
            prompt=f"Translate this Dakota into English: {text}\n{vocab}",
            answer=english,
            alternatives=phrase.alternatives,
            answer_language="english",
        ),
    ]


def noun_drafts(
    grammar: Grammar, nouns: list[Lexeme], adjectives: list[Lexeme], numerals: list[Lexeme]
) -> list[Draft]:
    """Noun phrases: articles, possession, diminutive, numerals, adjectives (syntax + translation)."""
    drafts: list[Draft] = []
    for noun in nouns:
        if "name" in noun.features:
            # birth-order names (Riggs 1852 § 72) are names, not common nouns: no articles or numerals
            continue
        for phrase in noun_phrases(grammar, noun, adjectives, numerals):
            drafts += noun_phrase_drafts(noun, phrase)
    return drafts
