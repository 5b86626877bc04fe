"""The task builders, in build order, each with the rule ids it applies, and the checks that keep the rules
file and the code in step.

A builder's `rule_ids` is data: its module's `RULE_IDS` (the rules it applies itself plus those of the
`Grammar` operations it calls, `data.grammar.*_RULES`). Every build checks, with one-line errors:
- every rule of `rules.yaml` is applied by some builder, and every id a builder declares is in the file;
- every draft carries only rule ids its builder declares (so a declaration cannot go stale);
- every rule id the code asked the grammar about is in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from data.grammar import Grammar, Lexeme
from data.sources import Attestation, SourceError
from data.templates import attested, emphatic, nouns, patterns, verbs, vocabulary
from data.templates.draft import Draft
from data.templates.sentences import TEMPLATES, SentencePool, SentenceTemplate, template_drafts


@dataclass
class Inputs:
    """What the builders build from: the grammar, the lexicon, Riggs's quoted forms, the split test."""

    grammar: Grammar
    lexemes: list[Lexeme]
    attestations: list[Attestation]
    same_side: Callable[[Lexeme, Lexeme], bool]
    """Are two lexemes on the same side of the train/held-out split?"""

    @cached_property
    def verbs(self) -> list[Lexeme]:
        return [lx for lx in self.lexemes if lx.pos == "verb"]

    @cached_property
    def nouns(self) -> list[Lexeme]:
        return [lx for lx in self.lexemes if lx.pos == "noun"]

    @cached_property
    def numerals(self) -> list[Lexeme]:
        return [lx for lx in self.lexemes if lx.pos == "numeral"]

    @cached_property
    def adjectives(self) -> list[Lexeme]:
        return [v for v in self.verbs if v.verb.get("class") == "stative" and v.is_copula_verb]

    @cached_property
    def sentence_pool(self) -> SentencePool:
        return SentencePool.of(self.nouns, self.verbs)


@dataclass(frozen=True)
class Builder:
    """A named task builder (`module.function`) and the rule ids its drafts may carry."""

    name: str
    build: Callable[[Inputs], list[Draft]]
    rule_ids: tuple[str, ...]


def _sentence_builder(template: SentenceTemplate) -> Builder:
    return Builder(
        f"sentences.{template.name}",
        lambda i: template_drafts(i.grammar, template, i.sentence_pool),
        template.rule_ids,
    )


BUILDERS: tuple[Builder, ...] = (
    Builder("verbs.verb_drafts", lambda i: verbs.verb_drafts(i.grammar, i.verbs), verbs.RULE_IDS),
    Builder(
        "nouns.noun_drafts",
        lambda i: nouns.noun_drafts(i.grammar, i.nouns, i.adjectives, i.numerals),
        nouns.RULE_IDS,
    ),
    *(_sentence_builder(t) for t in TEMPLATES),
    Builder(
        "emphatic.emphatic_drafts", lambda i: emphatic.emphatic_drafts(i.grammar, i.verbs), emphatic.RULE_IDS
    ),
    Builder(
        "patterns.pattern_drafts",
        lambda i: patterns.pattern_drafts(i.grammar, i.verbs, i.nouns),
        patterns.RULE_IDS,
    ),
    Builder(
        "vocabulary.vocabulary_drafts",
        lambda i: vocabulary.vocabulary_drafts(i.lexemes, i.same_side),
        vocabulary.RULE_IDS,
    ),
    Builder(
        "attested.attested_drafts", lambda i: attested.attested_drafts(i.attestations), attested.RULE_IDS
    ),
)


def rule_places(builders: Iterable[Builder] = BUILDERS) -> dict[str, list[str]]:
    """Rule id → the builders that apply it (in build order)."""
    places: dict[str, list[str]] = {}
    for builder in builders:
        for rule_id in dict.fromkeys(builder.rule_ids):
            places.setdefault(rule_id, []).append(builder.name)
    return places


def rule_id_problems(
    file_ids: Sequence[str], builders: Iterable[Builder] = BUILDERS, asked: Iterable[str] = ()
) -> str | None:
    """One line naming the rule ids of the file no builder applies and the ids the code uses (declared by a
    builder, or `asked` of the grammar) that the file lacks; None if there are none."""
    places = rule_places(builders)
    known = set(file_ids)
    unapplied = [r for r in file_ids if r not in places]
    unknown = sorted((set(places) | set(asked)) - known)
    problems = []
    if unapplied:
        problems.append(f"rule ids that no builder in data/templates applies: {', '.join(unapplied)}")
    if unknown:
        where = {r: places.get(r, ["the grammar"]) for r in unknown}
        problems.append(
            "rule ids used in code but missing from the file: "
            + ", ".join(f"{r} ({', '.join(where[r])})" for r in unknown)
        )
    return "; ".join(problems) or None


def undeclared_rules(builder: Builder, drafts: Iterable[Draft]) -> list[str]:
    """The rule ids the drafts carry (on the form or an affix) that `builder` does not declare."""
    declared = set(builder.rule_ids)
    used: dict[str, None] = {}
    for draft in drafts:
        used.update(dict.fromkeys(draft.rule_ids()))
        used.update(dict.fromkeys(a["rule_id"] for a in (draft.form.affixes if draft.form else [])))
    return sorted(set(used) - declared)


def build_drafts(inputs: Inputs, builders: Iterable[Builder] = BUILDERS) -> list[Draft]:
    """Every builder's drafts, in order; a SourceError if a builder applies a rule it does not declare."""
    drafts: list[Draft] = []
    for builder in builders:
        made = builder.build(inputs)
        stray = undeclared_rules(builder, made)
        if stray:
            raise SourceError(
                f"data/templates: builder {builder.name} applies rule ids it does not declare: "
                + ", ".join(stray)
            )
        drafts += made
    return drafts
