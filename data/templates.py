"""Task templates: each turns lexemes + grammar into drafts (prompt, gold, form) of one or more families.

Prompts say what to produce and give the vocabulary needed, never the answer; format instructions are left to
the environment's system prompt.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from data.grammar import (
    ENGLISH_PARTICLES,
    OBJECT_FEATURE,
    OBJECTS,
    SUBJECT_FEATURE,
    SUBJECTS,
    Form,
    Grammar,
    Lexeme,
    english_alternatives,
    english_plain,
    english_verb,
    with_article,
    with_object,
)
from data.sources import Attestation

CONTENT_POS = {"verb", "noun", "numeral", "adverb"}
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
PATTERN_PAIRS_PER_RULE = 40


@dataclass
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


def sample_hash(text: str) -> int:
    """A fast deterministic hash for sampling and ranking (not for ids)."""
    return zlib.crc32(text.encode("utf-8"))


def gloss_senses(lex: Lexeme) -> list[str]:
    """The 'to …' senses of a verb's gloss: "to take hold of, to catch" → both."""
    return [m for m in gloss_meanings(lex) if m.startswith("to ")]


def verb_meaning(lex: Lexeme) -> str:
    """A verb's vocabulary line: the English the golds use first ("to pity"), then the gloss's other
    senses."""
    first = f"to {lex.english['base']}"
    return ", ".join([first, *(s for s in gloss_senses(lex) if s != first)])


def third_person(base: str) -> str:
    """English third person singular of a verb phrase: "take hold of" → "takes hold of"."""
    head, _, tail = base.partition(" ")
    irregular = {"be": "is", "have": "has", "do": "does", "go": "goes"}
    if head in irregular:
        head = irregular[head]
    elif head.endswith(("s", "sh", "ch", "x", "z", "o")):
        head += "es"
    elif head.endswith("y") and head[-2:-1] not in "aeiou":
        head = head[:-1] + "ies"
    else:
        head += "s"
    return f"{head} {tail}".strip()


def synonym_lexemes(lex: Lexeme) -> list[Lexeme]:
    """The verb with its English replaced by each short synonym its gloss lists (for accepted alternatives).

    Senses with objects or qualifiers built in ("to kill by shooting", "to place in something") are skipped:
    they do not take an object or a tense the way the English templates need."""
    if lex.pos != "verb":
        return []
    out: list[Lexeme] = []
    for sense in gloss_senses(lex):
        base = sense[3:]
        words = base.split(" ")
        if base == lex.english["base"] or len(words) > 3 or set(words) & SENSE_STOPWORDS:
            continue
        if lex.is_copula_verb != (words[0] == "be"):
            continue
        out.append(replace(lex, english={"base": base, "third": third_person(base)}))
    return out


SENSE_STOPWORDS = {
    "something",
    "someone",
    "one",
    "by",
    "the",
    "a",
    "an",
    "thing",
    "place",
    "back",
    "there",
    "here",
    "home",
    "for",
}


def vocab_line(lexemes: Iterable[Lexeme]) -> str:
    parts = []
    for lex in lexemes:
        meaning = verb_meaning(lex) if lex.pos == "verb" else str(lex.english.get("singular") or lex.gloss)
        parts.append(f"{lex.form} = {meaning}")
    return "Vocabulary: " + "; ".join(parts)


def _inflection_cells(lex: Lexeme) -> Iterator[tuple[str | None, str, bool, bool]]:
    """(object, subject, future, negative) of each cell built for a verb (no future negative + object)."""
    objects: list[str | None] = [None]
    if takes_person_object(lex):
        objects += list(OBJECTS)
    for obj in objects:
        for subject in SUBJECTS:
            for future, negative in ((False, False), (True, False), (False, True), (True, True)):
                if obj is not None and negative and future:
                    continue
                yield obj, subject, future, negative


def _cell_english(lex: Lexeme, subject: str, obj: str | None, *, future: bool, negative: bool) -> str:
    """The English of one cell: 'he sees', 'they will not see you', …"""
    if obj is not None:
        return with_object(english_verb(lex, subject, future=future, negative=negative), lex, obj)
    return english_plain(lex, subject, future=future, negative=negative)


def _cell_features(subject: str, obj: str | None, *, future: bool, negative: bool) -> list[str]:
    """The features a morphology prompt asks for: subject, object, future, negative."""
    features = [SUBJECT_FEATURE[subject]]
    if obj is not None:
        features.append(OBJECT_FEATURE[obj])
    if future:
        features.append("future")
    if negative:
        features.append("negative")
    return features


def _cell_alternatives(
    lex: Lexeme, english: str, subject: str, obj: str | None, *, future: bool, negative: bool
) -> list[str]:
    """Accepted English: contractions, synonyms, "… it" (transitive verb, no object), other readings."""
    alternatives = english_alternatives(english)
    for synonym in synonym_lexemes(lex):
        alt = _cell_english(synonym, subject, obj, future=future, negative=negative)
        alternatives += [alt, *english_alternatives(alt)]
    if obj is None and lex.verb.get("transitive"):
        alternatives += [
            f"{e} it"
            for e in [english, *alternatives]
            if e.rsplit(" ", 1)[-1] not in (*ENGLISH_PARTICLES, "there", "home", "it")
        ]
    for reading in other_readings(lex, subject, obj, future=future, negative=negative):
        alternatives += [reading, *english_alternatives(reading)]
    return alternatives


def _cell_drafts(
    grammar: Grammar, lex: Lexeme, subject: str, obj: str | None, *, future: bool, negative: bool
) -> list[Draft]:
    """Morphology, translation and reverse translation of one inflected form (none if it is not built)."""
    form = grammar.inflect(lex, subject, obj, future=future, negative=negative)
    if form is None:
        return []
    english = _cell_english(lex, subject, obj, future=future, negative=negative)
    features = _cell_features(subject, obj, future=future, negative=negative)
    text = form.text
    alternatives = _cell_alternatives(lex, english, subject, obj, future=future, negative=negative)
    same_english = {"2sg": "2pl", "1pl": "1du"}.get(subject)
    other = same_english and grammar.inflect(lex, same_english, obj, future=future, negative=negative)
    you_all = [other.text] if other else []
    vocab = vocab_line([lex])
    return [
        Draft(
            "morphology",
            f"Dakota verb: {lex.form} ({lex.gloss}).\nInflect it for: {', '.join(features)}.\n"
            "Write the complete Dakota form.",
            text,
            [],
            "dakota",
            form,
            lex.form,
            [lex],
            english,
            text,
        ),
        Draft(
            "translation",
            f"Translate this Dakota into English: {text}\n{vocab}",
            english,
            alternatives,
            "english",
            form,
            lex.form,
            [lex],
            english,
            text,
        ),
        Draft(
            "reverse_translation",
            f"Translate into Dakota: {english}.\n{vocab}",
            text,
            you_all,
            "dakota",
            form,
            lex.form,
            [lex],
            english,
            text,
        ),
    ]


def _imperative_drafts(grammar: Grammar, lex: Lexeme) -> list[Draft]:
    """The command to one person and to several, as reverse translation."""
    drafts: list[Draft] = []
    for plural in (False, True):
        form = grammar.imperative(lex, plural)
        if form is None:
            continue
        who = "several people" if plural else "one person"
        command = str(lex.english["base"])
        command = with_object(command, lex, "it") if lex.verb.get("transitive") else command
        english = f"{command}! (said to {who})"
        drafts.append(
            Draft(
                "reverse_translation",
                f"Give this command in Dakota, said to {who}: {command}!\n{vocab_line([lex])}",
                form.text,
                [],
                "dakota",
                form,
                lex.form,
                [lex],
                english,
                form.text,
            )
        )
    return drafts


def _dative_drafts(grammar: Grammar, lex: Lexeme) -> list[Draft]:
    """The dative form ('… for someone') as morphology, when the verb has one."""
    form = grammar.dative(lex)
    if form is None:
        return []
    return [
        Draft(
            "morphology",
            f"Dakota verb: {lex.form} ({lex.gloss}).\nDerive the dative form meaning "
            f'"{lex.gloss} for someone" (the dative prefix goes in the pronoun slot).',
            form.text,
            [],
            "dakota",
            form,
            lex.form,
            [lex],
            f"{lex.gloss} for someone",
            form.text,
        )
    ]


def verb_drafts(grammar: Grammar, verbs: list[Lexeme]) -> list[Draft]:
    """Morphology, translation and reverse translation of every inflected verb form."""
    drafts: list[Draft] = []
    for lex in verbs:
        for obj, subject, future, negative in _inflection_cells(lex):
            drafts += _cell_drafts(grammar, lex, subject, obj, future=future, negative=negative)
        drafts += _imperative_drafts(grammar, lex)
        drafts += _dative_drafts(grammar, lex)
    return drafts


def other_readings(lex: Lexeme, subject: str, obj: str | None, *, future: bool, negative: bool) -> list[str]:
    """The other English readings of the same Dakota form: ni-…-pi is "they … you" or "he … you all";
    uŋ-… on a verb that takes a person object is also "he/they … us" (uŋ as the object pronoun)."""

    def reading(subj: str, person: str) -> str:
        return with_object(english_verb(lex, subj, future=future, negative=negative), lex, person)

    if obj == "2sg" and subject == "3pl":
        return [reading("3sg", "you all")]
    if obj is None and subject in ("1du", "1pl") and takes_person_object(lex):
        return [
            reading("3sg", "us"),
            reading("3pl" if subject == "1pl" else "3sg", "us two" if subject == "1du" else "us"),
        ]
    return []


# (form, English, English alternatives, lexemes, extra difficulty) of one noun phrase
NounPhrase = tuple[Form | None, str, list[str], list[Lexeme], int]


def _adjective_phrases(
    grammar: Grammar, noun: Lexeme, sing: str, adjectives: list[Lexeme]
) -> list[NounPhrase]:
    """'the ADJ N' for a sample of the adjectives that describe the noun's class (the adjective's lexicon
    `subject` list)."""
    phrases: list[NounPhrase] = []
    for adj in adjectives:
        if not adj.selects("subject", noun) or not _keep(f"adj:{noun.id}:{adj.id}", 500):
            continue
        pred = str(adj.english["base"])[3:]
        phrases.append(
            (grammar.noun_phrase(noun, "definite", adjective=adj), f"the {pred} {sing}", [], [noun, adj], 1)
        )
    return phrases


def _numeral_phrases(
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
            and _keep(f"num:{noun.id}:{num.id}", 400)
        ):
            continue
        form = Form(words=[[(noun.form, "stem")], [(num.form, "word")]], rule_ids=["numeral-after-noun"])
        word = NUMBER_WORDS.get(value, num.gloss)
        phrases.append((form, f"{word} {sing if value == 1 else plural}", [], [noun, num], 1))
    return phrases


def _noun_phrases(
    grammar: Grammar, noun: Lexeme, adjectives: list[Lexeme], numerals: list[Lexeme]
) -> list[NounPhrase]:
    """Every phrase built on one noun: articles, possession, diminutive (animate), adjectives, numerals."""
    sing = str(noun.english["singular"])
    plural = str(noun.english.get("plural") or sing)
    phrases: list[NounPhrase] = [
        (grammar.noun_phrase(noun, "definite"), with_article(sing, "the"), [], [noun], 0),
        (grammar.noun_phrase(noun, "indefinite"), with_article(sing, "a"), [], [noun], 0),
        (grammar.noun_phrase(noun, "mitawa"), f"my {sing}", [], [noun], 0),
        (grammar.noun_phrase(noun, "nitawa"), f"your {sing}", [], [noun], 0),
        (grammar.noun_phrase(noun, "tawa"), f"his {sing}", [f"her {sing}", f"its {sing}"], [noun], 0),
    ]
    if noun.animate:
        phrases.append((grammar.noun_phrase(noun, "diminutive"), f"little {sing}", [], [noun], 0))
    phrases += _adjective_phrases(grammar, noun, sing, adjectives)
    phrases += _numeral_phrases(grammar, noun, sing, plural, numerals)
    return phrases


def _noun_phrase_drafts(noun: Lexeme, phrase: NounPhrase) -> list[Draft]:
    """A built phrase as a syntax (several words) or morphology (one word) task, and a translation task."""
    form, english, alts, lexes, extra = phrase
    if form is None:
        return []
    text = form.text
    vocab = vocab_line(lexes)
    if form.words and len(form.words) > 1:
        family = "syntax"
        prompt = f"Say this in Dakota, putting every word in its right place: {english}\n{vocab}"
    else:
        family = "morphology"
        prompt = f"Dakota noun: {noun.form} ({noun.english['singular']}).\nForm the word for: {english}."
    return [
        Draft(family, prompt, text, [], "dakota", form, noun.form, lexes, english, text, extra),
        Draft(
            "translation",
            f"Translate this Dakota into English: {text}\n{vocab}",
            english,
            alts,
            "english",
            form,
            noun.form,
            lexes,
            english,
            text,
            extra,
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
        for phrase in _noun_phrases(grammar, noun, adjectives, numerals):
            drafts += _noun_phrase_drafts(noun, phrase)
    return drafts


NUMBER_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
}


def _keep(key: str, permille: int) -> bool:
    return sample_hash(f"dakota-sample:{key}") % 1000 < permille


# Verbs that take a person as object in a sensible English sentence although their lexicon `object` features
# do not list "human" (kaġa: Riggs § 15 mayakaġa 'thou madest me'; kaśka: § 106 'tied him').
PERSON_OBJECT_VERBS = {"make", "tie", "hit", "lay down", "show"}


def takes_person_object(lex: Lexeme) -> bool:
    """Build 'me' / 'you' / 'them' object forms of this verb? Only where the English makes sense with a person
    ("he sees me", not "he drinks me" or "he wins you")."""
    if not lex.verb.get("transitive") or lex.verb.get("class") == "stative":
        return False
    return "human" in (lex.verb.get("object") or []) or str(lex.english.get("base")) in PERSON_OBJECT_VERBS


def number_hidden(noun: Lexeme) -> bool:
    """Does the noun's English not show number (deer, fish, elk, grouse)? Then "the fish will go" could be one
    fish or several, and a sentence whose Dakota shows number (-pi, wića) is not built from it."""
    return noun.english.get("plural") in (None, noun.english.get("singular"))


SENTENCES_PER_TEMPLATE = {"s1": 450, "s2": 300, "s3": 350, "s4": 200, "s5": 250, "s6": 200}


# template id → [(ranking key, builder arguments)]
Candidates = dict[str, list[tuple[str, Any]]]
SENTENCE_TENSES = ((False, False), (True, False), (False, True))  # (future, negative)


def _s1_candidates(animate: list[Lexeme], intransitive: list[Lexeme]) -> list[tuple[str, Any]]:
    """s1, "the N V-s": an animate noun with each intransitive verb that selects it, 3sg/3pl, three tenses."""
    out: list[tuple[str, Any]] = []
    for noun in animate:
        for verb in (v for v in intransitive if v.selects("subject", noun)):
            for future, negative in SENTENCE_TENSES:
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


def _s2_candidates(nouns: list[Lexeme], stative: list[Lexeme]) -> list[tuple[str, Any]]:
    """s2, "the N is ADJ": each stative verb with the nouns whose class it describes (its lexicon `subject`
    list), three tenses ("the fish will be big" is not built: one fish or several)."""
    out: list[tuple[str, Any]] = []
    for adj in stative:
        for noun in (n for n in nouns if adj.selects("subject", n)):
            for future, negative in SENTENCE_TENSES:
                if not (future and noun.animate and number_hidden(noun)):
                    out.append((f"{noun.id}:{adj.id}:{future}:{negative}", (noun, adj, future, negative)))
    return out


def _transitive_candidates(
    nouns: list[Lexeme], animate: list[Lexeme], transitive: list[Lexeme], candidates: Candidates
) -> None:
    """s3 "I V the N", s4 "I V the Ns" (animate objects), s5 "the N1 V-s the N2" (one subject N1 each)."""
    for verb in transitive:
        for obj in (n for n in nouns if verb.selects("object", n)):
            for subject in ("1sg", "2sg", "3sg"):
                candidates["s3"].append((f"{verb.id}:{obj.id}:{subject}", (verb, obj, subject)))
                if obj.animate and not number_hidden(obj):
                    candidates["s4"].append((f"{verb.id}:{obj.id}:{subject}", (verb, obj, subject)))
            others = [n for n in animate if n.id != obj.id and verb.selects("subject", n)]
            if others:
                subj_noun = others[sample_hash(f"s5:{verb.id}:{obj.id}") % len(others)]
                candidates["s5"].append((f"{verb.id}:{subj_noun.id}:{obj.id}", (verb, subj_noun, obj)))


def _s6_candidates(intransitive: list[Lexeme]) -> list[tuple[str, Any]]:
    """s6, "I V1 and V2": two different intransitive verbs, 1sg/2sg."""
    return [
        (f"{first.id}:{second.id}:{subject}", (first, second, subject))
        for first in intransitive
        for second in intransitive
        if first.id != second.id
        for subject in ("1sg", "2sg")
    ]


def _sentence_candidates(nouns: list[Lexeme], verbs: list[Lexeme]) -> Candidates:
    """Every candidate sentence of each template (names are not common nouns: left out)."""
    nouns = [n for n in nouns if "name" not in n.features]
    animate = [n for n in nouns if n.animate]
    intransitive = [v for v in verbs if v.verb.get("class") == "active" and not v.verb.get("transitive")]
    transitive = [
        v
        for v in verbs
        if v.verb.get("class") == "active" and v.verb.get("transitive") and v.verb.get("object")
    ]
    stative = [v for v in verbs if v.verb.get("class") == "stative" and v.is_copula_verb]
    candidates: Candidates = defaultdict(list)
    candidates["s1"] += _s1_candidates(animate, intransitive)
    candidates["s2"] += _s2_candidates(nouns, stative)
    _transitive_candidates(nouns, animate, transitive, candidates)
    candidates["s6"] += _s6_candidates(intransitive)
    return candidates


def _synonym_sentences(grammar: Grammar, builder: Callable[..., Any], args: tuple[Any, ...]) -> list[str]:
    """The same sentence's English with each synonym of each of its lexemes in turn."""
    synonyms = []
    for i, arg in enumerate(args):
        for synonym in synonym_lexemes(arg) if isinstance(arg, Lexeme) else []:
            alt = builder(grammar, *args[:i], synonym, *args[i + 1 :])
            if alt is not None:
                synonyms.append(alt[1])
    return synonyms


def sentence_drafts(grammar: Grammar, nouns: list[Lexeme], verbs: list[Lexeme]) -> list[Draft]:
    """Sentences: "the N V-s" (+ plural, future, negative), "the N is ADJ", "I V the N(s)", "the N1 V-s the
    N2".

    Candidates of each template are ranked by a hash of their key and the first SENTENCES_PER_TEMPLATE kept,
    so the count does not grow with the square of the lexicon.
    """
    drafts: list[Draft] = []
    for template, items in sorted(_sentence_candidates(nouns, verbs).items()):
        items.sort(key=lambda item: sample_hash(f"sentence:{template}:{item[0]}"))
        builder = SENTENCE_BUILDERS[template]
        for _, args in items[: SENTENCES_PER_TEMPLATE[template]]:
            built = builder(grammar, *args)
            if built is not None:
                drafts.extend(sentence_tasks(grammar, *built, _synonym_sentences(grammar, builder, args)))
    return drafts


def _definite(grammar: Grammar, noun: Lexeme) -> Form | None:
    return grammar.noun_phrase(noun, "definite")


def _s1(grammar: Grammar, noun: Lexeme, verb: Lexeme, subj: str, future: bool, negative: bool) -> Any:
    english = english_verb(verb, subj, future=future, negative=negative)
    sing, plural = str(noun.english["singular"]), str(noun.english.get("plural") or noun.english["singular"])
    english = (f"the {sing}" if subj == "3sg" else f"the {plural}") + english[
        len("he" if subj == "3sg" else "they") :
    ]
    rules = ["verb-final"] + (["plural-subject-agreement"] if subj == "3pl" else [])
    parts = [_definite(grammar, noun), grammar.inflect(verb, subj, future=future, negative=negative)]
    return parts, english, [noun, verb], rules


def _s2(grammar: Grammar, noun: Lexeme, adj: Lexeme, future: bool, negative: bool) -> Any:
    english = (
        f"the {noun.english['singular']}" + english_verb(adj, "3sg", future=future, negative=negative)[2:]
    )
    parts = [_definite(grammar, noun), grammar.inflect(adj, "3sg", future=future, negative=negative)]
    return parts, english, [noun, adj], ["copula-juxtaposition"]


def _s3(grammar: Grammar, verb: Lexeme, obj: Lexeme, subject: str) -> Any:
    english = english_verb(verb, subject) + f" the {obj.english['singular']}"
    parts = [_definite(grammar, obj), grammar.inflect(verb, subject)]
    return parts, english, [obj, verb], ["word-order-sov", "third-person-no-object-singular"]


def _s4(grammar: Grammar, verb: Lexeme, obj: Lexeme, subject: str) -> Any:
    english = english_verb(verb, subject) + f" the {obj.english.get('plural') or obj.english['singular']}"
    parts = [_definite(grammar, obj), grammar.inflect(verb, subject, "3pl")]
    return parts, english, [obj, verb], ["word-order-sov", "object-agreement-wica"]


def _s5(grammar: Grammar, verb: Lexeme, subj: Lexeme, obj: Lexeme) -> Any:
    third = verb.english.get("third") or verb.english["base"]
    english = f"the {subj.english['singular']} {third} the {obj.english['singular']}"
    parts = [_definite(grammar, subj), _definite(grammar, obj), grammar.inflect(verb, "3sg")]
    return parts, english, [subj, obj, verb], ["word-order-sov", "third-person-no-object-singular"]


def _s6(grammar: Grammar, first: Lexeme, second: Lexeme, subject: str) -> Any:
    """Two verbs joined by ka, each repeating its pronoun (Riggs § 107: wahi ka waŋmdake)."""
    a, b = grammar.inflect(first, subject), grammar.inflect(second, subject)
    if a is None or b is None or grammar.add_particles(a, first, ["conjunction-ka"]) is None:
        return None
    english = f"{english_verb(first, subject)} and {english_verb(second, subject)}"
    return [a, b], english, [first, second], ["pronoun-repetition"]


def sentence_case(english: str) -> str:
    return english[0].upper() + english[1:] + "."


SENTENCE_BUILDERS = {"s1": _s1, "s2": _s2, "s3": _s3, "s4": _s4, "s5": _s5, "s6": _s6}


def sentence_tasks(
    grammar: Grammar,
    parts: list[Form | None],
    english: str,
    lexes: list[Lexeme],
    extra_rules: list[str],
    synonyms: list[str],
) -> list[Draft]:
    """Translation, reverse translation and word-order tasks for one sentence; `synonyms` are the same
    sentence in English with a synonym of a verb (accepted alternatives, with she/it for he)."""
    if any(p is None for p in parts) or not grammar.has(*extra_rules):
        return []
    form = _joined_form(parts, extra_rules)
    alternatives = [sentence_case(v) for e in [english, *synonyms] for v in [e, *english_alternatives(e)]]
    english = sentence_case(english)
    alternatives = [a for a in dict.fromkeys(alternatives) if a != english]
    text = form.text
    vocab = vocab_line(lexes)
    verb = lexes[-1]
    drafts = [
        Draft(
            "translation",
            f"Translate this Dakota sentence into English: {text}\n{vocab}",
            english,
            alternatives,
            "english",
            form,
            verb.form,
            lexes,
            english,
            text,
        ),
        Draft(
            "reverse_translation",
            f"Translate into Dakota: {english}\n{vocab}",
            text,
            [],
            "dakota",
            form,
            verb.form,
            lexes,
            english,
            text,
        ),
    ]
    word_order = _word_order_draft(form, english, verb, lexes)
    if word_order is not None:
        drafts.append(word_order)
    return drafts


def _joined_form(parts: list[Form | None], extra_rules: list[str]) -> Form:
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


def _word_order_draft(form: Form, english: str, verb: Lexeme, lexes: list[Lexeme]) -> Draft | None:
    """The word-order task of 3+ distinct words (shown sorted; reversed if already sorted)."""
    text = form.text
    words = text.split(" ")
    shuffled = sorted(words)
    if not len(set(words)) == len(words) > 2:
        return None
    if shuffled == words:
        shuffled.reverse()
    return Draft(
        "syntax",
        f'Put these Dakota words in the right order to say "{english}": {", ".join(shuffled)}',
        text,
        [],
        "dakota",
        form,
        verb.form,
        lexes,
        english,
        text,
    )


def gloss_meanings(lex: Lexeme) -> list[str]:
    """The meanings a gloss lists, parenthesised remarks removed: "to take hold of, to catch" → both."""
    bare = re.sub(r"\bbe \(([^)]*)\)", r"be \1", lex.gloss)
    parts = (" ".join(p.split()) for p in re.split(r"[;,]", re.sub(r"\([^)]*\)", "", bare)))
    return [p for p in dict.fromkeys(parts) if p]


def gloss_parts(lex: Lexeme) -> list[str]:
    """Each meaning a gloss lists ("to take hold of, to catch" → two), plus the English the other tasks
    use."""
    parts = gloss_meanings(lex)
    if lex.pos == "verb":
        parts.append(f"to {lex.english['base']}")
    elif lex.english.get("singular"):
        parts.append(str(lex.english["singular"]))
    return [p for p in dict.fromkeys(parts) if p]


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
        drafts.append(
            Draft(
                "translation",
                f"What does the Dakota {lex.pos} {lex.form} mean? Give its English gloss.",
                lex.gloss,
                sorted(meanings),
                "english",
                form,
                lex.form,
                [lex],
                lex.gloss,
                lex.form,
                recall=True,
            )
        )
        drafts.append(
            Draft(
                "reverse_translation",
                f"Give the Dakota {lex.pos} that means: {lex.gloss}",
                lex.form,
                sorted(synonyms),
                "dakota",
                form,
                lex.form,
                [lex],
                lex.gloss,
                lex.form,
                recall=True,
            )
        )
    return drafts


def attested_drafts(attestations: list[Attestation]) -> list[Draft]:
    """Forms Riggs quotes, translated both ways (attested, not derived by our rules). Where Riggs gives
    several forms for one English gloss (niye and niś 'thou'), the first is the gold and the others are
    accepted."""
    drafts: list[Draft] = []
    reverse: dict[str, list[Draft]] = defaultdict(list)
    for att in attestations:
        lex = att.lexeme
        form = Form(words=[[(w, "word")] for w in att.form.split(" ")])
        vocab = "" if att.form == lex.form else "\n" + vocab_line([lex])
        drafts.append(
            Draft(
                "translation",
                f"Translate this Dakota (quoted in the grammar by Riggs) into English: {att.form}{vocab}",
                att.gloss,
                [],
                "english",
                form,
                lex.form,
                [lex],
                att.gloss,
                att.form,
                1,
                recall=not vocab,
            )
        )
        prompt = f"Translate into Dakota, as the grammar by Riggs gives it: {att.gloss}{vocab}"
        reverse[prompt].append(
            Draft(
                "reverse_translation",
                prompt,
                att.form,
                [],
                "dakota",
                form,
                lex.form,
                [lex],
                att.gloss,
                att.form,
                1,
                recall=not vocab,
            )
        )
    for group in reverse.values():
        first = group[0]
        first.alternatives = sorted({d.answer for d in group} - {first.answer})
        drafts.append(first)
    return drafts


def emphatic_drafts(grammar: Grammar, verbs: list[Lexeme]) -> list[Draft]:
    """A separate (emphatic) pronoun before a verb that already carries the matching pronoun (Riggs § 15)."""
    drafts: list[Draft] = []
    table = (
        ("1sg", "pron-emphatic-miye", "I myself"),
        ("2sg", "pron-emphatic-niye", "you yourself"),
        ("3sg", "pron-emphatic-iye", "he himself"),
        ("1pl", "pron-emphatic-unkiye", "we ourselves"),
        ("1sg", "pron-emphatic-mis", "I myself"),
        ("2sg", "pron-emphatic-nis", "you yourself"),
    )
    for verb in verbs:
        for subject, rule_id, label in table:
            vp = grammar.inflect(verb, subject)
            if vp is None or not grammar.has(rule_id):
                continue
            pronoun = grammar.form_of(rule_id) or ""
            rule_ids = [rule_id, *vp.rule_ids]
            if subject == "1pl":
                rule_ids += ["pron-separate-plural-pi", "plural-last-word"]
            form = Form(words=[[(pronoun, "word")], *vp.words], rule_ids=rule_ids, affixes=list(vp.affixes))
            english = english_plain(verb, subject)
            english = label + english[len(english.split(" ")[0]) :]
            drafts.append(
                Draft(
                    "syntax",
                    f"Add the {'short' if rule_id.endswith(('-mis', '-nis')) else 'long'} separate "
                    f"(emphatic) pronoun to this Dakota verb form: {vp.text}\nMeaning: {english}.",
                    form.text,
                    [],
                    "dakota",
                    form,
                    verb.form,
                    [verb],
                    english,
                    form.text,
                )
            )
    return drafts


# (lexeme, the example line "base → derived", the affix, the derived form)
PatternExample = tuple[Lexeme, str, str, Form]
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


def _shows_only(rule_id: str, form: Form) -> bool:
    """Does the inflected form show `rule_id`'s affix and nothing else that could be taken for it?"""
    changed = [r for r in form.rule_ids if r not in ("pron-3sg-zero", "dual-no-pi")]
    y_fused = "pron-y-1sg" in changed or "pron-y-2sg" in changed
    if rule_id.startswith("pron-y") != y_fused or (rule_id not in changed):
        return False
    if rule_id == "plural-pi" and changed != ["pron-3pl-pi", "plural-pi"]:
        return False
    return not (rule_id not in ("plural-pi",) and not rule_id.startswith("pron-y") and len(changed) != 1)


def _verb_examples(grammar: Grammar, lex: Lexeme, examples: dict[str, list[PatternExample]]) -> None:
    """Append the verb's subject-pronoun/plural examples, then its object-pronoun ones (person objects)."""
    base_eng = english_plain(lex, "3sg")
    for rule_id, subject in PATTERN_SUBJECTS.items():
        form = grammar.inflect(lex, subject)
        if form is None or not form.affixes or not _shows_only(rule_id, form):
            continue
        affix = form.affixes[0]["form"]
        examples[rule_id].append(
            (lex, f'{lex.form} "{base_eng}" → {form.text} "{english_plain(lex, subject)}"', affix, form)
        )
    if not takes_person_object(lex):
        return
    for obj, rule_id in (
        ("1sg", "pron-object-1sg"),
        ("2sg", "pron-object-2sg"),
        ("3pl", "pron-object-3pl-wica"),
    ):
        form = grammar.inflect(lex, "3sg", obj)
        if form is None:
            continue
        eng = with_object(english_verb(lex, "3sg"), lex, obj)
        examples[rule_id].append(
            (lex, f'{lex.form} "{base_eng}" → {form.text} "{eng}"', form.affixes[0]["form"], form)
        )


def _diminutive_examples(grammar: Grammar, nouns: list[Lexeme]) -> list[PatternExample]:
    """'little N' examples of the animate nouns."""
    out: list[PatternExample] = []
    for noun in nouns:
        form = grammar.noun_phrase(noun, "diminutive") if noun.animate else None
        if form is not None:
            sing = noun.english["singular"]
            out.append(
                (noun, f'{noun.form} "{sing}" → {form.text} "little {sing}"', form.affixes[0]["form"], form)
            )
    return out


def _pattern_rule_drafts(grammar: Grammar, rule_id: str, examples: list[PatternExample]) -> list[Draft]:
    """Tasks from pairs of examples sharing one affix of `rule_id` (a hash-ranked sample of the pairs)."""
    items = sorted(examples, key=lambda e: e[0].id)
    pairs = [(a, b) for i, a in enumerate(items) for b in items[i + 1 :] if a[2] == b[2]]
    pairs.sort(key=lambda p: sample_hash(f"pattern:{rule_id}:{p[0][0].id}:{p[1][0].id}"))
    drafts: list[Draft] = []
    for a, b in pairs[:PATTERN_PAIRS_PER_RULE]:
        affix = a[2]
        form = Form(
            words=[[(affix, a[3].affixes[0]["slot"])]],
            rule_ids=list(a[3].rule_ids),
            affixes=[dict(a[3].affixes[0])],
        )
        extra = 1 if any(e[3].affixes[0]["slot"] == "infix" for e in (a, b)) else 0
        drafts.append(
            Draft(
                "pattern",
                "Each line shows a Dakota word and a form built from it:\n"
                f"{a[1]}\n{b[1]}\nWhich affix was added in both? Give the affix alone.",
                affix,
                [f"{affix}-", f"-{affix}-", f"-{affix}"],
                "dakota",
                form,
                a[0].form,
                [a[0], b[0]],
                f"the affix {affix} ({grammar.rules[rule_id]['name']})",
                f"{a[3].text} {b[3].text}",
                extra,
            )
        )
    return drafts


def pattern_drafts(grammar: Grammar, verbs: list[Lexeme], nouns: list[Lexeme]) -> list[Draft]:
    """Identify the affix that two base → derived pairs share (answer: the affix alone)."""
    examples: dict[str, list[PatternExample]] = defaultdict(list)
    for lex in verbs:
        _verb_examples(grammar, lex, examples)
    examples["diminutive-na"] += _diminutive_examples(grammar, nouns)
    drafts: list[Draft] = []
    for rule_id in PATTERN_RULES:
        drafts += _pattern_rule_drafts(grammar, rule_id, examples.get(rule_id, []))
    return drafts
