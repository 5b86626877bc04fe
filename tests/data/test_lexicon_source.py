"""The curated lexicon `data/riggs/lexicon.yaml` follows Contract 0 (ARCHITECTURE.md) and is honest about its
sources."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

RIGGS = Path(__file__).resolve().parents[2] / "data" / "riggs"
LEXICON = RIGGS / "lexicon.yaml"

PREFIX = {
    "verb": "v",
    "noun": "n",
    "numeral": "num",
    "pronoun": "pro",
    "particle": "part",
    "adverb": "adv",
    "postposition": "post",
    "conjunction": "conj",
}
REVIEW_STATUSES = {"unreviewed", "unverified", "approved", "corrected", "rejected"}
UNCANONICAL = set("šŠčČžŽṡṠżŻṅṄǧǦğĞȟȞķĶţŢțȚṫṪƞç")
ALPHABET = set("abdeghikmnopstuwyz") | set("ćċġḣḳŋṗśṭź") | set("áéíóú") | {" ", "ʼ"}
RIGGS_SECTION = re.compile(r"\bRiggs (1852|1890|1893) § \d+")
ID_PATTERN = re.compile(r"^[a-z]+-[a-z0-9-]+$")


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    doc = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and isinstance(doc.get("entries"), list), (
        "expected a top-level `entries:` list"
    )
    return doc["entries"]


def test_size_and_counts(entries: list[dict]) -> None:
    by_pos = Counter(e["pos"] for e in entries)
    by_status = Counter(e["review_status"] for e in entries)
    print(f"\nlexicon: {len(entries)} entries; by pos: {dict(sorted(by_pos.items()))}")
    print(
        f"review_status: {dict(sorted(by_status.items()))} "
        f"(unreviewed = checked in Riggs's text: {by_status['unreviewed'] / len(entries):.0%})"
    )
    assert len(entries) >= 300
    assert by_pos["verb"] >= 80
    assert by_pos["noun"] >= 150
    for pos in PREFIX:
        assert by_pos[pos] > 0, f"no {pos} entries"


def test_required_fields_and_ids(entries: list[dict]) -> None:
    ids = [e.get("id") for e in entries]
    assert len(ids) == len(set(ids)), f"duplicate ids: {sorted(i for i, n in Counter(ids).items() if n > 1)}"
    for e in entries:
        for key in ("id", "form", "pos", "gloss", "source", "review_status"):
            assert isinstance(e.get(key), str) and e[key].strip(), f"{e.get('id')}: empty or missing `{key}`"
        assert e["pos"] in PREFIX, f"{e['id']}: unknown pos {e['pos']!r}"
        assert e["id"].startswith(PREFIX[e["pos"]] + "-"), (
            f"{e['id']}: id prefix does not match pos {e['pos']}"
        )
        assert ID_PATTERN.match(e["id"]), f"{e['id']}: ids are lowercase ASCII with hyphens"
        assert e["review_status"] in REVIEW_STATUSES, f"{e['id']}: review_status {e['review_status']!r}"


def test_forms_are_nfc_canonical_letters(entries: list[dict]) -> None:
    for e in entries:
        texts = [e["form"]] + [a["form"] for a in e.get("attested") or []]
        for text in texts:
            assert text == unicodedata.normalize("NFC", text), f"{e['id']}: {text!r} is not NFC"
            bad = set(text) & UNCANONICAL
            assert not bad, f"{e['id']}: uncanonical letters {sorted(bad)} in {text!r}"
        outside = set(e["form"]) - ALPHABET
        assert not outside, f"{e['id']}: letters outside Riggs's alphabet {sorted(outside)} in {e['form']!r}"
        assert e["form"] == e["form"].strip() and "  " not in e["form"], f"{e['id']}: stray spaces"


def test_letters_are_in_the_orthography_table(entries: list[dict]) -> None:
    """Every non-ASCII letter of a citation form is a canonical letter of `orthography.yaml` (Contract 0)."""
    path = RIGGS / "orthography.yaml"
    if not path.is_file():
        pytest.skip("data/riggs/orthography.yaml not written yet")
    table = yaml.safe_load(path.read_text(encoding="utf-8"))
    canonical = {letter["letter"] for letter in table["letters"]}
    used = {ch for e in entries for ch in e["form"] if not ch.isascii()}
    assert used <= canonical, f"letters missing from orthography.yaml: {sorted(used - canonical)}"


def test_verbs_have_inflection_info(entries: list[dict]) -> None:
    for e in (e for e in entries if e["pos"] == "verb"):
        v = e.get("verb")
        assert isinstance(v, dict), f"{e['id']}: verbs need a `verb` block"
        assert v.get("class") in ("active", "stative"), f"{e['id']}: class {v.get('class')!r}"
        for key in ("transitive", "y_initial"):
            assert isinstance(v.get(key), bool), f"{e['id']}: verb.{key} must be true/false"
        assert isinstance(v.get("ablaut"), bool) or v.get("ablaut") == "unknown", f"{e['id']}: verb.ablaut"
        index = v.get("affix_index")
        assert isinstance(index, int) and not isinstance(index, bool), (
            f"{e['id']}: affix_index must be an int"
        )
        assert 0 <= index <= len(e["form"]), f"{e['id']}: affix_index {index} outside 0..{len(e['form'])}"
        if v["y_initial"]:
            assert e["form"][index] == "y", f"{e['id']}: y-verb whose affix slot is not before a y"
        if v["class"] == "stative":
            assert not v["transitive"], f"{e['id']}: stative verbs take no object"
        assert isinstance(v.get("dative", False), bool), f"{e['id']}: verb.dative must be true/false"
        if v.get("dative"):
            assert v["transitive"] and v["class"] == "active", (
                f"{e['id']}: dative ki- needs an active transitive verb"
            )
        if "un_index" in v:
            assert isinstance(v["un_index"], int) and 0 <= v["un_index"] <= index, f"{e['id']}: un_index"
        english = e.get("english") or {}
        assert english.get("base") and english.get("third"), f"{e['id']}: english needs base and third"


def test_nouns_and_numerals_have_english(entries: list[dict]) -> None:
    for e in entries:
        english = e.get("english") or {}
        if e["pos"] == "noun":
            assert english.get("singular") and english.get("plural"), f"{e['id']}: english singular/plural"
            assert isinstance(e.get("animate"), bool), f"{e['id']}: nouns need animate: true/false"
        if e["pos"] == "numeral":
            assert isinstance(english.get("value"), int), f"{e['id']}: numerals need an integer english.value"
    values = {e["english"]["value"] for e in entries if e["pos"] == "numeral"}
    assert set(range(1, 11)) | {20, 100} <= values


def test_sources_are_honest(entries: list[dict]) -> None:
    for e in entries:
        if e["review_status"] == "unreviewed":
            assert RIGGS_SECTION.search(e["source"]), f"{e['id']}: unreviewed entries cite Riggs with a §"
        if e["review_status"] == "unverified":
            assert e["source"].startswith("own knowledge"), (
                f"{e['id']}: unverified entries rest on own knowledge"
            )
        for att in e.get("attested") or []:
            assert att.get("form") and att.get("gloss"), f"{e['id']}: attested forms need form and gloss"
            assert RIGGS_SECTION.search(att.get("source", "")), f"{e['id']}: attested form without a Riggs §"


def test_file_has_no_yaml_comments() -> None:
    for n, line in enumerate(LEXICON.read_text(encoding="utf-8").splitlines(), 1):
        assert not line.lstrip().startswith("#"), (
            f"line {n}: YAML comments are lost by review import; use notes"
        )
