"""Separate (emphatic) pronoun tasks: the pronoun before a verb that already carries it (Riggs § 15)."""

from __future__ import annotations

from data.grammar import PERSON_RULES, Form, Grammar, Lexeme, english_plain
from data.templates.draft import Draft, form_draft

# (subject, the pronoun's rule id, its English)
EMPHATIC_PRONOUNS = (
    ("1sg", "pron-emphatic-miye", "I myself"),
    ("2sg", "pron-emphatic-niye", "you yourself"),
    ("3sg", "pron-emphatic-iye", "he himself"),
    ("1pl", "pron-emphatic-unkiye", "we ourselves"),
    ("1sg", "pron-emphatic-mis", "I myself"),
    ("2sg", "pron-emphatic-nis", "you yourself"),
)
PLURAL_RULES = ("pron-separate-plural-pi", "plural-last-word")
"""A plural separate pronoun: -pi once, on the last word (uŋkiye … -pi)."""
RULE_IDS = (*(rule_id for _, rule_id, _ in EMPHATIC_PRONOUNS), *PLURAL_RULES, *PERSON_RULES)
"""The rule ids `emphatic_drafts` applies (the verb's own through `Grammar.inflect`)."""


def emphatic_draft(grammar: Grammar, verb: Lexeme, subject: str, rule_id: str, label: str) -> Draft | None:
    """The separate pronoun `rule_id` before the verb's `subject` form (None if either is not built)."""
    vp = grammar.inflect(verb, subject)
    if vp is None or not grammar.has(rule_id):
        return None
    pronoun = grammar.form_of(rule_id) or ""
    rule_ids = [rule_id, *vp.rule_ids]
    if subject == "1pl":
        rule_ids += PLURAL_RULES
    form = Form(words=[[(pronoun, "word")], *vp.words], rule_ids=rule_ids, affixes=list(vp.affixes))
    english = english_plain(verb, subject)
    english = label + english[len(english.split(" ")[0]) :]
    return form_draft(
        family="syntax",
        prompt=f"Add the {'short' if rule_id.endswith(('-mis', '-nis')) else 'long'} separate "
        f"(emphatic) pronoun to this Dakota verb form: {vp.text}\nMeaning: {english}.",
        form=form,
        lex=verb,
        gloss=english,
    )


def emphatic_drafts(grammar: Grammar, verbs: list[Lexeme]) -> list[Draft]:
    """Every verb with every separate pronoun whose person it has."""
    drafts = (
        emphatic_draft(grammar, verb, subject, rule_id, label)
        for verb in verbs
        for subject, rule_id, label in EMPHATIC_PRONOUNS
    )
    return [d for d in drafts if d is not None]
