"""The verb paradigms and noun phrases data fidelity v3 fixed, checked against the attested forms.

Each paradigm is compared cell by cell with UniMorph Dakota (LaFontaine & McKay 2005, ../shared/reference),
up to the spelling differences `spelling_key` sees through (accents, dots, citation in -e) and the Riggs-era
oŋ for the modern uŋ. Then the shipped build: no possessive word after an inalienable noun or a person, no
colour or temperature said of a person or an abstract noun.
"""

from __future__ import annotations

import pytest

from dakota_grammar_translation.tasks import DATA_DIR, read_tasks
from data.audit import PREDICATE_NOT_OF, load_lexicon
from data.grammar import SUBJECTS
from data.import_unimorph import _lexicon, read_unimorph, spelling_key, unimorph_to_riggs

# lexicon id → UniMorph lemma of the same verb
FIXED = {
    "v-onshida": "úŋṡida",
    "v-kiksuya": "ḳiksuye",
    "v-ishtinma": "iṡtiŋme",
    "v-yuta": "yúṭe",
    "v-ohiya": "ohiye",
    "v-ipuza": "ípuze",
}


@pytest.fixture(scope="module")
def unimorph(shared_reference) -> dict[str, dict[str, list[str]]]:
    return read_unimorph(shared_reference / "unimorph-dak")


@pytest.fixture(scope="module")
def grammar_and_lexicon():
    lexemes, grammar = _lexicon()
    return grammar, {lx.id: lx for lx in lexemes}


def _riggs_key(form: str) -> str:
    return spelling_key(form).replace("oŋ", "uŋ")  # Riggs's oŋśida is the modern úŋṡida


@pytest.mark.parametrize("lexeme_id", list(FIXED))
def test_fixed_paradigm_equals_the_attested_forms_cell_by_cell(
    unimorph, grammar_and_lexicon, lexeme_id
) -> None:
    grammar, lexicon = grammar_and_lexicon
    lex, cells = lexicon[lexeme_id], unimorph[FIXED[lexeme_id]]
    not_built = set(lex.verb.get("no_cells") or ())
    compared = 0
    for subject in SUBJECTS:
        form = grammar.inflect(lex, subject)
        if subject in not_built:
            assert form is None, f"{lexeme_id} {subject}: declared not built, got {form and form.text}"
            continue
        attested = {_riggs_key(unimorph_to_riggs(f)) for f in cells[subject]}
        assert form is not None and _riggs_key(form.text) in attested, (
            f"{lexeme_id} {subject}: ours {form and form.text}, UniMorph {cells[subject]}"
        )
        compared += 1
    assert compared >= 5


def test_irregular_forms_carry_their_object_pronoun_in_front(grammar_and_lexicon) -> None:
    """The object cells of kiksuya are built on the contracted forms (mayeksuya, wićaweksuya), never on
    wakiksuya; 'I … you' (ći) with an irregular form has no source and is not built."""
    grammar, lexicon = grammar_and_lexicon
    kiksuya = lexicon["v-kiksuya"]
    built = {
        (s, o): f.text
        for s in SUBJECTS
        for o in ("1sg", "2sg", "3pl")
        if (f := grammar.inflect(kiksuya, s, o))
    }
    assert built[("2sg", "1sg")] == "mayeksuya" and built[("1sg", "3pl")] == "wićaweksuya"
    assert built[("2pl", "1sg")] == "mayeksuyapi" and ("1sg", "2sg") not in built
    assert not any("wakiksuy" in f or "yakiksuy" in f for f in built.values())


@pytest.fixture(scope="module")
def shipped() -> list[dict]:
    return read_tasks(DATA_DIR / "tasks_train.jsonl") + read_tasks(DATA_DIR / "tasks_heldout.jsonl")


POSSESSIVE_WORDS = {"mitawa", "nitawa", "tawa"}


def test_no_possessive_word_follows_an_inalienable_noun_or_a_person(shipped, grammar_and_lexicon) -> None:
    grammar, lexicon = grammar_and_lexicon
    barred = {lx.form for lx in lexicon.values() if {"inalienable", "human"} & set(lx.features)}
    assert {"ćaŋte", "tahu", "ćaźe", "tawaćiŋ", "wićaśta"} <= barred
    possessive_phrases = 0
    for task in shipped:
        texts = [task["answer"], *task["alternatives"], task["prompt"]]
        for text in texts:
            words = text.replace(":", " ").split()
            pairs = list(zip(words, words[1:], strict=False))
            possessive_phrases += sum(b in POSSESSIVE_WORDS for _, b in pairs)
            assert not any(a in barred and b in POSSESSIVE_WORDS for a, b in pairs), (task["id"], text)
    assert possessive_phrases > 100  # alienable things are still possessed: šuŋka mitawa
    for kind in POSSESSIVE_WORDS:
        assert grammar.noun_phrase(lexicon["n-cante"], kind) is None
        assert grammar.noun_phrase(lexicon["n-wicashta"], kind) is None


def test_no_colour_or_temperature_predicate_takes_a_person_or_an_abstract_noun(shipped) -> None:
    lexicon = load_lexicon()
    colours_and_temperatures = {p for p, barred in PREDICATE_NOT_OF.items() if "human" in barred}
    assert {"white", "black", "red", "hot", "cold"} <= colours_and_temperatures
    pairings = 0
    for task in shipped:
        items = [lexicon[i] for i in task["meta"]["lexeme_ids"] if i in lexicon]
        preds = {str(v.english["base"])[3:] for v in items if v.pos == "verb" and v.is_copula_verb}
        nouns = [n for n in items if n.pos == "noun"]
        if preds & colours_and_temperatures and nouns:
            pairings += 1
            assert not any({"human", "abstract"} & set(n.features) for n in nouns), task["id"]
    assert pairings > 50  # colours and temperatures are still said of things: "the kettle is hot"
