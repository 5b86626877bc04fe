"""Sentence templates: each pairs verbs with the subjects and objects they select and builds one sentence.

Candidates of each template are ranked by a hash of their key and the first `count` kept, so the number of
sentences does not grow with the square of the lexicon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from data.grammar import PERSON_RULES, TENSE_RULES, Form, Grammar, Lexeme, english_verb
from data.templates.draft import Draft, sample_hash
from data.templates.english import number_hidden, synonym_lexemes
from data.templates.sentence_tasks import Sentence, sentence_tasks

TENSES = ((False, False), (True, False), (False, True))  # (future, negative)
DEFINITE_RULES = ("article-definite-kin",)  # "the N": kiŋ after a bare noun (ćiŋ needs an adjective)
Candidate = tuple[str, tuple[Any, ...]]  # (ranking key, the builder's arguments after the grammar)


@dataclass(frozen=True)
class SentencePool:
    """The words sentences are built from (names are not common nouns: left out)."""

    nouns: list[Lexeme]
    animate: list[Lexeme]
    intransitive: list[Lexeme]
    transitive: list[Lexeme]
    stative: list[Lexeme]

    @classmethod
    def of(cls, nouns: list[Lexeme], verbs: list[Lexeme]) -> SentencePool:
        nouns = [n for n in nouns if "name" not in n.features]
        active = [v for v in verbs if v.verb.get("class") == "active"]
        return cls(
            nouns=nouns,
            animate=[n for n in nouns if n.animate],
            intransitive=[v for v in active if not v.verb.get("transitive")],
            transitive=[v for v in active if v.verb.get("transitive") and v.verb.get("object")],
            stative=[v for v in verbs if v.verb.get("class") == "stative" and v.is_copula_verb],
        )


def _definite(grammar: Grammar, noun: Lexeme) -> Form | None:
    return grammar.noun_phrase(noun, "definite")


# -- the six templates: a builder (the sentence, or None) and its candidates ---------------------------------
def noun_verbs(
    grammar: Grammar, noun: Lexeme, verb: Lexeme, subj: str, future: bool, negative: bool
) -> Sentence:
    """ "the N V-s" / "the Ns V" (-pi for a plural animate subject)."""
    english = english_verb(verb, subj, future=future, negative=negative)
    sing, plural = str(noun.english["singular"]), str(noun.english.get("plural") or noun.english["singular"])
    english = (f"the {sing}" if subj == "3sg" else f"the {plural}") + english[
        len("he" if subj == "3sg" else "they") :
    ]
    rules = ["verb-final"] + (["plural-subject-agreement"] if subj == "3pl" else [])
    parts = [_definite(grammar, noun), grammar.inflect(verb, subj, future=future, negative=negative)]
    return Sentence(parts, english, [noun, verb], rules)


def noun_verbs_candidates(pool: SentencePool) -> list[Candidate]:
    """An animate noun with each intransitive verb that selects it, 3sg/3pl, three tenses."""
    out: list[Candidate] = []
    for noun in pool.animate:
        for verb in (v for v in pool.intransitive if v.selects("subject", noun)):
            for future, negative in TENSES:
                for subj in ("3sg", "3pl"):
                    if number_hidden(noun) and future:  # "the fish will go": one or several
                        continue
                    out.append(
                        (
                            f"{noun.id}:{verb.id}:{subj}:{future}:{negative}",
                            (noun, verb, subj, future, negative),
                        )
                    )
    return out


def noun_is_adjective(grammar: Grammar, noun: Lexeme, adj: Lexeme, future: bool, negative: bool) -> Sentence:
    """ "the N is ADJ": the noun phrase and the stative verb side by side (juxtaposition as "to be")."""
    english = (
        f"the {noun.english['singular']}" + english_verb(adj, "3sg", future=future, negative=negative)[2:]
    )
    parts = [_definite(grammar, noun), grammar.inflect(adj, "3sg", future=future, negative=negative)]
    return Sentence(parts, english, [noun, adj], ["copula-juxtaposition"])


def noun_is_adjective_candidates(pool: SentencePool) -> list[Candidate]:
    """Each stative verb with the nouns whose class it describes (its lexicon `subject` list), three tenses
    ("the fish will be big" is not built: one fish or several)."""
    out: list[Candidate] = []
    for adj in pool.stative:
        for noun in (n for n in pool.nouns if adj.selects("subject", n)):
            for future, negative in TENSES:
                if not (future and noun.animate and number_hidden(noun)):
                    out.append((f"{noun.id}:{adj.id}:{future}:{negative}", (noun, adj, future, negative)))
    return out


def person_verbs_noun(grammar: Grammar, verb: Lexeme, obj: Lexeme, subject: str) -> Sentence:
    """ "I V the N" (object before the verb)."""
    english = english_verb(verb, subject) + f" the {obj.english['singular']}"
    parts = [_definite(grammar, obj), grammar.inflect(verb, subject)]
    return Sentence(parts, english, [obj, verb], ["word-order-sov", "third-person-no-object-singular"])


def person_verbs_noun_candidates(pool: SentencePool) -> list[Candidate]:
    """Each transitive verb with each noun it takes as object, for I / you / he."""
    return [
        (f"{verb.id}:{obj.id}:{subject}", (verb, obj, subject))
        for verb in pool.transitive
        for obj in pool.nouns
        if verb.selects("object", obj)
        for subject in ("1sg", "2sg", "3sg")
    ]


def person_verbs_nouns(grammar: Grammar, verb: Lexeme, obj: Lexeme, subject: str) -> Sentence:
    """ "I V the Ns": a plural animate object, wića in the verb."""
    english = english_verb(verb, subject) + f" the {obj.english.get('plural') or obj.english['singular']}"
    parts = [_definite(grammar, obj), grammar.inflect(verb, subject, "3pl")]
    return Sentence(parts, english, [obj, verb], ["word-order-sov", "object-agreement-wica"])


def person_verbs_nouns_candidates(pool: SentencePool) -> list[Candidate]:
    """As `person_verbs_noun`, animate objects whose English shows number."""
    return [
        (key, (verb, obj, subject))
        for key, (verb, obj, subject) in person_verbs_noun_candidates(pool)
        if obj.animate and not number_hidden(obj)
    ]


def noun_verbs_noun(grammar: Grammar, verb: Lexeme, subj: Lexeme, obj: Lexeme) -> Sentence:
    """ "the N1 V-s the N2" (subject, object, verb)."""
    third = verb.english.get("third") or verb.english["base"]
    english = f"the {subj.english['singular']} {third} the {obj.english['singular']}"
    parts = [_definite(grammar, subj), _definite(grammar, obj), grammar.inflect(verb, "3sg")]
    return Sentence(parts, english, [subj, obj, verb], ["word-order-sov", "third-person-no-object-singular"])


def noun_verbs_noun_candidates(pool: SentencePool) -> list[Candidate]:
    """Each transitive verb and object with one animate subject the verb selects (picked by a hash)."""
    out: list[Candidate] = []
    for verb in pool.transitive:
        for obj in (n for n in pool.nouns if verb.selects("object", n)):
            others = [n for n in pool.animate if n.id != obj.id and verb.selects("subject", n)]
            if others:
                # "s5": this template's id in generator 2.0.0, kept in the hash so the sample stays the same
                subj_noun = others[sample_hash(f"s5:{verb.id}:{obj.id}") % len(others)]
                out.append((f"{verb.id}:{subj_noun.id}:{obj.id}", (verb, subj_noun, obj)))
    return out


def two_verbs_with_ka(grammar: Grammar, first: Lexeme, second: Lexeme, subject: str) -> Sentence | None:
    """Two verbs joined by ka, each repeating its pronoun (Riggs § 107: wahi ka waŋmdake)."""
    a, b = grammar.inflect(first, subject), grammar.inflect(second, subject)
    if a is None or b is None or grammar.add_particles(a, first, ["conjunction-ka"]) is None:
        return None
    english = f"{english_verb(first, subject)} and {english_verb(second, subject)}"
    return Sentence([a, b], english, [first, second], ["pronoun-repetition"])


def two_verbs_with_ka_candidates(pool: SentencePool) -> list[Candidate]:
    """Two different intransitive verbs, I / you."""
    return [
        (f"{first.id}:{second.id}:{subject}", (first, second, subject))
        for first in pool.intransitive
        for second in pool.intransitive
        if first.id != second.id
        for subject in ("1sg", "2sg")
    ]


# -- the templates and how their sentences become drafts --------------------------------------------------
@dataclass(frozen=True)
class SentenceTemplate:
    """A named sentence template: its builder, its candidates, how many it keeps, the rule ids it applies."""

    name: str
    sample_key: str
    """The key its candidates are ranked by: the template's id in generator 2.0.0 (s1 … s6), kept so the
    sample, and so the data, stay the same."""
    count: int
    build: Callable[..., Sentence | None]
    candidates: Callable[[SentencePool], list[Candidate]]
    rule_ids: tuple[str, ...]


TEMPLATES = (
    SentenceTemplate(
        name="noun_verbs",
        sample_key="s1",
        count=450,
        build=noun_verbs,
        candidates=noun_verbs_candidates,
        rule_ids=("verb-final", "plural-subject-agreement", *DEFINITE_RULES, *PERSON_RULES, *TENSE_RULES),
    ),
    SentenceTemplate(
        name="noun_is_adjective",
        sample_key="s2",
        count=300,
        build=noun_is_adjective,
        candidates=noun_is_adjective_candidates,
        rule_ids=("copula-juxtaposition", *DEFINITE_RULES, *PERSON_RULES, *TENSE_RULES),
    ),
    SentenceTemplate(
        name="person_verbs_noun",
        sample_key="s3",
        count=350,
        build=person_verbs_noun,
        candidates=person_verbs_noun_candidates,
        rule_ids=("word-order-sov", "third-person-no-object-singular", *DEFINITE_RULES, *PERSON_RULES),
    ),
    SentenceTemplate(
        name="person_verbs_nouns",
        sample_key="s4",
        count=200,
        build=person_verbs_nouns,
        candidates=person_verbs_nouns_candidates,
        rule_ids=("word-order-sov", "object-agreement-wica", *DEFINITE_RULES, *PERSON_RULES),
    ),
    SentenceTemplate(
        name="noun_verbs_noun",
        sample_key="s5",
        count=250,
        build=noun_verbs_noun,
        candidates=noun_verbs_noun_candidates,
        rule_ids=("word-order-sov", "third-person-no-object-singular", *DEFINITE_RULES, *PERSON_RULES),
    ),
    SentenceTemplate(
        name="two_verbs_with_ka",
        sample_key="s6",
        count=200,
        build=two_verbs_with_ka,
        candidates=two_verbs_with_ka_candidates,
        rule_ids=("pronoun-repetition", "conjunction-ka", "ablaut-a-e", *PERSON_RULES),
    ),
)


def synonym_sentences(
    grammar: Grammar, build: Callable[..., Sentence | None], args: tuple[Any, ...]
) -> list[str]:
    """The same sentence's English with each synonym of each of its lexemes in turn."""
    synonyms = []
    for i, arg in enumerate(args):
        for synonym in synonym_lexemes(arg) if isinstance(arg, Lexeme) else []:
            alt = build(grammar, *args[:i], synonym, *args[i + 1 :])
            if alt is not None:
                synonyms.append(alt.english)
    return synonyms


def template_drafts(grammar: Grammar, template: SentenceTemplate, pool: SentencePool) -> list[Draft]:
    """The tasks of one template's first `count` candidates by hash rank."""
    items = template.candidates(pool)
    items.sort(key=lambda item: sample_hash(f"sentence:{template.sample_key}:{item[0]}"))
    drafts: list[Draft] = []
    for _, args in items[: template.count]:
        built = template.build(grammar, *args)
        if built is not None:
            drafts.extend(sentence_tasks(grammar, built, synonym_sentences(grammar, template.build, args)))
    return drafts


def sentence_drafts(grammar: Grammar, nouns: list[Lexeme], verbs: list[Lexeme]) -> list[Draft]:
    """The tasks of every template, in order."""
    pool = SentencePool.of(nouns, verbs)
    return [d for template in TEMPLATES for d in template_drafts(grammar, template, pool)]
