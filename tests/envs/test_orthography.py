"""The canonical orthography: the curated YAML, the shipped table and canonicalize/match_key."""

from __future__ import annotations

import json
import re
import string
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dakota_grammar_translation import orthography as ortho

REPO = Path(__file__).resolve().parents[2]
YAML_PATH = REPO / "data" / "riggs" / "orthography.yaml"
STATUSES = {"unreviewed", "unverified", "approved", "corrected", "rejected"}


def test_yaml_letters_are_nfc_cited_and_consistent():
    doc = yaml.safe_load(YAML_PATH.read_text(encoding="utf-8"))
    assert len(doc["canonical"]) > 200
    letters = [e["letter"] for e in doc["letters"]]
    assert set("ćċġḣḳŋṗśṭźáéíóúʼ") <= set(letters)
    for entry in doc["letters"]:
        letter = entry["letter"]
        assert unicodedata.normalize("NFC", letter) == letter
        assert entry["codepoints"] == " ".join(f"U+{ord(c):04X}" for c in letter)
        assert entry["review_status"] in STATUSES
        assert entry["source"] and entry["sound"]
        if entry["review_status"] == "unreviewed":
            assert "Riggs" in entry["source"] and "§" in entry["source"]
        for variant in entry["variants"]:
            assert not variant.isascii(), variant
    for section in ("apostrophes", "quotes"):
        assert doc[section]["marks"] and doc[section]["review_status"] in STATUSES


def test_shipped_table_matches_yaml(tmp_path):
    assert ortho.load_table() == ortho.build_table(YAML_PATH)
    first = ortho.write_table(YAML_PATH, tmp_path / "a.json").read_bytes()
    second = ortho.write_table(YAML_PATH, tmp_path / "b.json").read_bytes()
    assert first == second and json.loads(first)["version"] == ortho.TABLE_VERSION


def test_every_variant_maps_to_its_letter_in_both_cases():
    table = ortho.load_table()
    checked = 0
    for item in table["letters"]:
        for variant in item["variants"]:
            assert ortho.canonicalize(f"a{variant}a") == f"a{item['letter']}a"
            checked += 1
    assert checked >= 30


def test_real_world_spellings():
    assert ortho.canonicalize("Dakota šni ṡni") == "Dakota śni śni"
    assert ortho.canonicalize("ȟ ǧ ž ż ṅ ƞ č ķ ţ ț ṫ") == "ḣ ġ ź ź ŋ ŋ ć ḳ ṭ ṭ ṭ"
    assert ortho.canonicalize("k\u0307a p\u0323a c\u0323a") == "ḳa ṗa ċa"
    assert ortho.canonicalize("ŠUŊKA Ȟ") == "ŚUŊKA Ḣ"
    assert ortho.canonicalize("s'a s’a s‘a") == "sʼa sʼa sʼa"
    assert ortho.canonicalize("“wa”  \t\n «te» ") == '"wa" "te"'


def test_nfd_equals_nfc():
    word = "waśté ćaŋ ŋ ḣ"
    assert ortho.canonicalize(unicodedata.normalize("NFD", word)) == word


def test_ascii_letters_never_change():
    text = "The quick brown fox jumps over the lazy dog; q x j n c s z QXJ 0123"
    assert ortho.canonicalize(text) == text


def test_accent_is_a_letter_and_case_is_ignored_by_match_key():
    assert ortho.match_key("Waśté.") == ortho.match_key("waśté") == "waśté"
    assert ortho.match_key("waste") != ortho.match_key("waśté")
    assert ortho.match_key("waśte") != ortho.match_key("waśté")
    assert ortho.canonicalize("Waśté") == "Waśté"
    assert ortho.match_key(" 'mawani' ") == "mawani"


def test_variants_of_lists_the_table():
    assert set(ortho.variants_of("ś")) == {"š", "ṡ"}
    assert ortho.variants_of("a") == []
    assert "Ŋ" in ortho.canonical_letters()


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list("šṡžżṅčȟǧķţ'’“ \u0301\u0307\u0323")))
)
def test_canonicalize_is_idempotent(text):
    once = ortho.canonicalize(text)
    assert ortho.canonicalize(once) == once
    assert ortho.match_key(once) == ortho.match_key(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + " .,;:!?-"))
def test_canonicalize_keeps_ascii_words(text):
    assert ortho.canonicalize(text) == " ".join(text.split())


# -- Riggs ⇄ modern spelling ---------------------------------------------------------------------------------
RIGGS_MODERN_PAIRS = [
    ("wićaśta śiće", "wičašta šiče"),
    ("ḳa wamdake", "k'a wabdake"),
    ("ċaŋ ṗa ṭa", "č'aŋ p'a t'a"),
    ("maġa ḣe ź", "maǧa ȟe ž"),
    ("Śuŋka Ćaske", "Šuŋka Časke"),
    ("om wamdake", "ob wabdake"),
]


@pytest.mark.parametrize(("riggs", "modern"), RIGGS_MODERN_PAIRS)
def test_riggs_and_modern_spellings_convert_both_ways(riggs: str, modern: str) -> None:
    assert ortho.to_modern(riggs) == modern
    assert ortho.to_riggs(modern) == riggs


def test_modern_aspiration_and_ejective_apostrophes_become_riggs_letters() -> None:
    assert ortho.to_riggs("Dakhóta thípi čhaŋ kȟo") == "Dakóta típi ćaŋ ko"
    assert ortho.to_riggs("k’a") == "ḳa" and ortho.to_riggs("s'a") == "sʼa"
    assert ortho.to_riggs(ortho.to_riggs("wabdake")) == "wamdake"


@given(st.text(alphabet="aeiouŋćċġḣḳṗśṭźkmdwy ", max_size=30))
@settings(max_examples=200, deadline=None)
def test_riggs_text_survives_a_round_trip_through_modern(text: str) -> None:
    riggs = ortho.canonicalize(text)
    assume(
        not re.search("[kpt]ḣ", riggs)
    )  # modern kȟ pȟ tȟ are aspirated k p t (Riggs writes no such cluster)
    assert ortho.to_riggs(ortho.to_modern(riggs)) == riggs


def test_cli_converts_text_and_files(tmp_path: Path) -> None:
    import subprocess
    import sys

    run = [sys.executable, "-m", "dakota_grammar_translation.orthography"]
    out = subprocess.run([*run, "--to", "modern", "wićaśta"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "wičašta"
    path = tmp_path / "words.txt"
    path.write_text("wičašta\nk'a\n", encoding="utf-8")
    out = subprocess.run([*run, "--to", "riggs", str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["wićaśta", "ḳa"]
    bad = subprocess.run([*run, "--to", "latin", "x"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_the_pure_scorer_reads_modern_answers_only_when_asked() -> None:
    from dakota_grammar_translation.rewards import score, score_in_orthography

    task = {
        "answer": "wamdake",
        "alternatives": [],
        "answer_language": "dakota",
        "family": "morphology",
        "difficulty": "easy",
        "meta": {"segments": [{"form": "wamdake", "kind": "word"}]},
    }
    reply = "<think>the th in think stays</think><answer>wabdake</answer>"
    assert score_in_orthography(reply, task) == score(reply, task) and not score(reply, task).exact
    assert score_in_orthography(reply, task, orthography="modern").exact
    assert score_in_orthography("<answer>wamdake</answer>", task, orthography="either").exact
    assert (
        score_in_orthography("wabdake", task, orthography="either").answer == "wamdake"
    )  # no tag: last line
    english = {**task, "answer": "I saw", "answer_language": "english"}
    assert score_in_orthography("<answer>I saw</answer>", english, orthography="modern").exact
    with pytest.raises(ValueError):
        score_in_orthography(reply, task, orthography="latin")


def test_om_after_an_ejective_is_not_the_word_om() -> None:
    """A hypothesis find: ḳom → k'om must not become k'ob (only the word om 'with' is ob)."""
    assert ortho.to_modern("ḳom") == "k'om" and ortho.to_riggs(ortho.to_modern("ḳom")) == "ḳom"
    assert ortho.to_modern("kiŋ om") == "kiŋ ob"
