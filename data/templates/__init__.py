"""Task builders: each turns lexemes + grammar into drafts (prompt, gold, form) of one or more families.

    draft.py          Draft (a task before ids, split and filters), form_draft (the gold is the form), the
                      sampling hash
    english.py        the English side: gloss senses, vocabulary lines, synonyms, other readings
    verbs.py          every inflected verb form (3 tasks each), commands, the dative
    nouns.py          noun phrases: articles, possession, diminutive, adjectives, numerals
    sentences.py      six named sentence templates (+ sentence_tasks.py: a sentence → its tasks)
    emphatic.py       a separate pronoun before the verb
    patterns.py       two base → derived pairs: name the shared affix
    vocabulary.py     word meanings both ways
    attested.py       forms Riggs quotes, both ways
    registry.py       BUILDERS in build order, each with the rule ids it applies; the rule-id checks

Prompts say what to produce and give the vocabulary needed, never the answer; format instructions are left to
the environment's system prompt.
"""

from data.templates.attested import attested_drafts
from data.templates.draft import CONTENT_POS, Draft, sample_hash
from data.templates.emphatic import emphatic_drafts
from data.templates.english import takes_person_object
from data.templates.nouns import noun_drafts
from data.templates.patterns import pattern_drafts
from data.templates.registry import BUILDERS, Builder, Inputs, build_drafts, rule_id_problems, rule_places
from data.templates.sentences import sentence_drafts
from data.templates.verbs import verb_drafts
from data.templates.vocabulary import vocabulary_drafts

__all__ = [
    "BUILDERS",
    "CONTENT_POS",
    "Builder",
    "Draft",
    "Inputs",
    "attested_drafts",
    "build_drafts",
    "emphatic_drafts",
    "noun_drafts",
    "pattern_drafts",
    "rule_id_problems",
    "rule_places",
    "sample_hash",
    "sentence_drafts",
    "takes_person_object",
    "verb_drafts",
    "vocabulary_drafts",
]
