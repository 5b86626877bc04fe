"""One built sentence → its translation, reverse translation and word-order tasks."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from data.grammar import Form, Grammar, Lexeme, english_alternatives
from data.templates.draft import Draft
from data.templates.english import sentence_case, vocab_line


class Sentence(NamedTuple):
    """A sentence a template built: its parts in order, its English, its lexemes (verb last), and its own
    rules."""

    parts: list[Form | None]
    english: str
    lexemes: list[Lexeme]
    rule_ids: list[str]


def joined_form(parts: list[Form | None], extra_rules: list[str]) -> Form:
    """One sentence form from its parts (words, rules and affixes in order), plus the sentence's own rules."""
    form = Form(words=[])
    for part in parts:
        assert part is not None
        form.words.extend(part.words)
        for r in part.rule_ids:
            form.use(r)
        form.affixes.extend(part.affixes)
    for r in extra_rules:
        form.use(r)
    return form


def scrambled(text: str) -> list[str] | None:
    """The words of a word-order task, shown sorted (reversed if already sorted); None unless the text has
    3+ distinct words."""
    words = text.split(" ")
    if not len(set(words)) == len(words) > 2:
        return None
    shuffled = sorted(words)
    if shuffled == words:
        shuffled.reverse()
    return shuffled


def sentence_tasks(grammar: Grammar, sentence: Sentence, synonyms: list[str]) -> list[Draft]:
    """Translation, reverse translation and word-order tasks for one sentence (none if a part is not built or
    a rule of the sentence is rejected); `synonyms` are the same sentence in English with a synonym of a verb
    (accepted alternatives, with she/it for he)."""
    parts, english, lexes, extra_rules = sentence
    if any(p is None for p in parts) or not grammar.has(*extra_rules):
        return []
    form = joined_form(parts, extra_rules)
    alternatives = [sentence_case(v) for e in [english, *synonyms] for v in [e, *english_alternatives(e)]]
    english = sentence_case(english)
    alternatives = [a for a in dict.fromkeys(alternatives) if a != english]
    text = form.text
    vocab = vocab_line(lexes)
    verb = lexes[-1]
    task = partial(Draft, form=form, stem=verb.form, lexemes=lexes, gloss=english, dakota=text)
    drafts = [
        task(
            family="translation",
            prompt=f"Translate this Dakota sentence into English: {text}\n{vocab}",
            answer=english,
            alternatives=alternatives,
            answer_language="english",
        ),
        task(
            family="reverse_translation",
            prompt=f"Translate into Dakota: {english}\n{vocab}",
            answer=text,
            alternatives=[],
            answer_language="dakota",
        ),
    ]
    shuffled = scrambled(text)
    if shuffled is not None:
        drafts.append(
            task(
                family="syntax",
                prompt=f'Put these Dakota words in the right order to say "{english}": {", ".join(shuffled)}',
                answer=text,
                alternatives=[],
                answer_language="dakota",
            )
        )
    return drafts
