"""Pattern tasks: two base → derived pairs that share one affix; name the affix."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from data.grammar import PERSON_RULES, Form, Grammar, Lexeme, english_plain, english_verb, with_object
from data.templates.draft import Draft, sample_hash
from data.templates.english import takes_person_object

PATTERN_RULES = (
    "pron-agent-1sg",
    "pron-agent-2sg",
    "pron-patient-1sg",
    "pron-patient-2sg",
    "pron-agent-1du",
    "pron-object-1sg",
    "pron-object-2sg",
    "pron-object-3pl-wica",
    "plural-pi",
    "pron-y-1sg",
    "pron-y-2sg",
    "diminutive-na",
)
"""The rules whose affix a pattern task asks for."""
PATTERN_PAIRS_PER_RULE = 40
# the subject whose inflection shows each pronoun/plural rule
PATTERN_SUBJECTS = {
    "pron-agent-1sg": "1sg",
    "pron-agent-2sg": "2sg",
    "pron-patient-1sg": "1sg",
    "pron-patient-2sg": "2sg",
    "pron-agent-1du": "1du",
    "plural-pi": "3pl",
    "pron-y-1sg": "1sg",
    "pron-y-2sg": "2sg",
}
PATTERN_OBJECTS = (("1sg", "pron-object-1sg"), ("2sg", "pron-object-2sg"), ("3pl", "pron-object-3pl-wica"))
RULE_IDS = (*PATTERN_RULES, *PERSON_RULES)
"""The rule ids `pattern_drafts` applies: a task carries every rule of its first example's form."""


class PatternExample(NamedTuple):
    """One base → derived pair: the lexeme, the line 'base "…" → derived "…"', the affix, the derived form."""

    lexeme: Lexeme
    line: str
    affix: str
    form: Form


def shows_only(rule_id: str, form: Form) -> bool:
    """Does the inflected form show `rule_id`'s affix and nothing else that could be taken for it?"""
    changed = [r for r in form.rule_ids if r not in ("pron-3sg-zero", "dual-no-pi")]
    y_fused = "pron-y-1sg" in changed or "pron-y-2sg" in changed
    if rule_id.startswith("pron-y") != y_fused or (rule_id not in changed):
        return False
    if rule_id == "plural-pi" and changed != ["pron-3pl-pi", "plural-pi"]:
        return False
    return not (rule_id not in ("plural-pi",) and not rule_id.startswith("pron-y") and len(changed) != 1)


def verb_examples(grammar: Grammar, lex: Lexeme, examples: dict[str, list[PatternExample]]) -> None:
    """Append the verb's subject-pronoun/plural examples, then its object-pronoun ones (person objects)."""
    base_eng = english_plain(lex, "3sg")
    for rule_id, subject in PATTERN_SUBJECTS.items():
        form = grammar.inflect(lex, subject)
        if form is None or not form.affixes or not shows_only(rule_id, form):
            continue
        line = f'{lex.form} "{base_eng}" → {form.text} "{english_plain(lex, subject)}"'
        examples[rule_id].append(PatternExample(lex, line, form.affixes[0]["form"], form))
    if not takes_person_object(lex):
        return
    for obj, rule_id in PATTERN_OBJECTS:
        form = grammar.inflect(lex, "3sg", obj)
        if form is None:
            continue
        line = f'{lex.form} "{base_eng}" → {form.text} "{with_object(english_verb(lex, "3sg"), lex, obj)}"'
        examples[rule_id].append(PatternExample(lex, line, form.affixes[0]["form"], form))


def diminutive_examples(grammar: Grammar, nouns: list[Lexeme]) -> list[PatternExample]:
    """'little N' examples of the animate nouns."""
    out: list[PatternExample] = []
    for noun in nouns:
        form = grammar.noun_phrase(noun, "diminutive") if noun.animate else None
        if form is not None:
            sing = noun.english["singular"]
            line = f'{noun.form} "{sing}" → {form.text} "little {sing}"'
            out.append(PatternExample(noun, line, form.affixes[0]["form"], form))
    return out


def pattern_rule_drafts(grammar: Grammar, rule_id: str, examples: list[PatternExample]) -> list[Draft]:
    """Tasks from pairs of examples sharing one affix of `rule_id` (a hash-ranked sample of the pairs)."""
    items = sorted(examples, key=lambda e: e.lexeme.id)
    pairs = [(a, b) for i, a in enumerate(items) for b in items[i + 1 :] if a.affix == b.affix]
    pairs.sort(key=lambda p: sample_hash(f"pattern:{rule_id}:{p[0].lexeme.id}:{p[1].lexeme.id}"))
    drafts: list[Draft] = []
    for a, b in pairs[:PATTERN_PAIRS_PER_RULE]:
        first_affix = a.form.affixes[0]
        form = Form(
            words=[[(a.affix, first_affix["slot"])]],
            rule_ids=list(a.form.rule_ids),
            affixes=[dict(first_affix)],
        )
        drafts.append(
            Draft(
                family="pattern",
                prompt="Each line shows a Dakota word and a form built from it:\n"
                f"{a.line}\n{b.line}\nWhich affix was added in both? Give the affix alone.",
                answer=a.affix,
                alternatives=[f"{a.affix}-", f"-{a.affix}-", f"-{a.affix}"],
                answer_language="dakota",
                form=form,
                stem=a.lexeme.form,
                lexemes=[a.lexeme, b.lexeme],
                gloss=f"the affix {a.affix} ({grammar.rules[rule_id]['name']})",
                dakota=f"{a.form.text} {b.form.text}",
                extra_words=1 if any(e.form.affixes[0]["slot"] == "infix" for e in (a, b)) else 0,
            )
        )
    return drafts


def pattern_drafts(grammar: Grammar, verbs: list[Lexeme], nouns: list[Lexeme]) -> list[Draft]:
    """Identify the affix that two base → derived pairs share (answer: the affix alone)."""
    examples: dict[str, list[PatternExample]] = defaultdict(list)
    for lex in verbs:
        verb_examples(grammar, lex, examples)
    examples["diminutive-na"] += diminutive_examples(grammar, nouns)
    drafts: list[Draft] = []
    for rule_id in PATTERN_RULES:
        drafts += pattern_rule_drafts(grammar, rule_id, examples.get(rule_id, []))
    return drafts
