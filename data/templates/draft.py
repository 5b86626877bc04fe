"""The task draft every builder returns, and the deterministic hash builders sample with."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from data.grammar import Form, Lexeme

CONTENT_POS = {"verb", "noun", "numeral", "adverb"}
"""Parts of speech whose lexemes decide a task's split (data/build.py)."""


@dataclass(kw_only=True)
class Draft:
    """A task before ids, split and filters."""

    family: str
    prompt: str
    answer: str
    alternatives: list[str]
    answer_language: str
    form: Form | None
    stem: str
    lexemes: list[Lexeme]
    gloss: str
    dakota: str
    extra_words: int = 0
    recall: bool = False
    """A bare word-meaning question (no vocabulary given): learnable only if the word's lexeme is in train."""

    def rule_ids(self) -> list[str]:
        return list(self.form.rule_ids) if self.form else []


def form_draft(*, family: str, prompt: str, form: Form, lex: Lexeme, gloss: str) -> Draft:
    """A task on one lexeme whose only gold is the Dakota `form` itself (a derived form, a command, …)."""
    return Draft(
        family=family,
        prompt=prompt,
        answer=form.text,
        alternatives=[],
        answer_language="dakota",
        form=form,
        stem=lex.form,
        lexemes=[lex],
        gloss=gloss,
        dakota=form.text,
    )


def sample_hash(text: str) -> int:
    """A fast deterministic hash for sampling and ranking (not for ids)."""
    return zlib.crc32(text.encode("utf-8"))


def keep(key: str, permille: int) -> bool:
    """Keep about `permille`/1000 of the keys, the same ones on every build."""
    return sample_hash(f"dakota-sample:{key}") % 1000 < permille
