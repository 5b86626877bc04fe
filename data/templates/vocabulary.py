"""Word-meaning tasks both ways for every content lexeme (no grammar rule applies)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from data.grammar import Form, Lexeme
from data.templates.draft import CONTENT_POS, Draft
from data.templates.english import gloss_meanings, gloss_parts

RULE_IDS: tuple[str, ...] = ()


def vocabulary_drafts(lexemes: list[Lexeme], same_side: Callable[[Lexeme, Lexeme], bool]) -> list[Draft]:
    """Word meanings both ways for every content lexeme (Dakota → English gloss, gloss → Dakota).

    Any one meaning of the gloss is accepted in English; in Dakota, another word of the same part of speech
    (and split, `same_side`) that lists every meaning asked for is accepted too."""
    drafts: list[Draft] = []
    content = [lx for lx in lexemes if lx.pos in CONTENT_POS]
    for lex in content:
        form = Form(words=[[(lex.form, "stem")]])
        meanings = set(gloss_parts(lex)) - {lex.gloss}
        synonyms = [
            other.form
            for other in content
            if other.id != lex.id
            and other.pos == lex.pos
            and other.form != lex.form
            and same_side(lex, other)
            and set(gloss_meanings(lex)) <= set(gloss_parts(other))
        ]
        task = partial(
            Draft, form=form, stem=lex.form, lexemes=[lex], gloss=lex.gloss, dakota=lex.form, recall=True
        )
        drafts.append(
            task(
                family="translation",
                prompt=f"What does the Dakota {lex.pos} {lex.form} mean? Give its English gloss.",
                answer=lex.gloss,
                alternatives=sorted(meanings),
                answer_language="english",
            )
        )
        drafts.append(
            task(
                family="reverse_translation",
                prompt=f"Give the Dakota {lex.pos} that means: {lex.gloss}",
                answer=lex.form,
                alternatives=sorted(synonyms),
                answer_language="dakota",
            )
        )
    return drafts
