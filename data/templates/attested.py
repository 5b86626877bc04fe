"""Forms Riggs quotes, translated both ways: attested, not derived by our rules (no rule applies)."""

from __future__ import annotations

from collections import defaultdict
from functools import partial

from data.grammar import Form
from data.sources import Attestation
from data.templates.draft import Draft
from data.templates.english import vocab_line

RULE_IDS: tuple[str, ...] = ()


def attested_drafts(attestations: list[Attestation]) -> list[Draft]:
    """Each quoted form into English and back. Where Riggs gives several forms for one English gloss (niye
    and niś 'thou'), the first is the gold of the reverse task and the others are accepted."""
    drafts: list[Draft] = []
    reverse: dict[str, list[Draft]] = defaultdict(list)
    for att in attestations:
        lex = att.lexeme
        form = Form(words=[[(w, "word")] for w in att.form.split(" ")])
        vocab = "" if att.form == lex.form else "\n" + vocab_line([lex])
        task = partial(
            Draft,
            form=form,
            stem=lex.form,
            lexemes=[lex],
            gloss=att.gloss,
            dakota=att.form,
            extra_words=1,
            recall=not vocab,
        )
        drafts.append(
            task(
                family="translation",
                prompt="Translate this Dakota (quoted in the grammar by Riggs) into English: "
                f"{att.form}{vocab}",
                answer=att.gloss,
                alternatives=[],
                answer_language="english",
            )
        )
        prompt = f"Translate into Dakota, as the grammar by Riggs gives it: {att.gloss}{vocab}"
        reverse[prompt].append(
            task(
                family="reverse_translation",
                prompt=prompt,
                answer=att.form,
                alternatives=[],
                answer_language="dakota",
            )
        )
    for group in reverse.values():
        first = group[0]
        first.alternatives = sorted({d.answer for d in group} - {first.answer})
        drafts.append(first)
    return drafts
