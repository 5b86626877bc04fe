"""data/riggs/rules.yaml: enough rules, each machine-readable, sourced honestly, with worked examples."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from dakota_grammar_translation.orthography import canonicalize

RULES = Path(__file__).resolve().parents[2] / "data" / "riggs" / "rules.yaml"
OPERATION_TYPES = {
    "pronoun_affix",
    "zero",
    "y_fusion",
    "vowel_contact",
    "affix_order",
    "suffix",
    "particle_after",
    "ablaut",
    "particle_chain",
    "affix_position",
    "derive_prefix",
    "article",
    "article_variant",
    "word_after",
    "word_before",
    "word_order",
    "agreement",
    "constraint",
}
STATUSES = {"unreviewed", "unverified", "approved", "corrected", "rejected"}


def _rules() -> list[dict]:
    return yaml.safe_load(RULES.read_text(encoding="utf-8"))["rules"]


def test_at_least_forty_rules_with_unique_ids() -> None:
    rules = _rules()
    ids = [r["id"] for r in rules]
    assert len(rules) >= 40 and len(ids) == len(set(ids))


def test_each_rule_is_complete_and_machine_readable() -> None:
    for rule in _rules():
        for key in (
            "id",
            "name",
            "category",
            "description",
            "operation",
            "english",
            "examples",
            "difficulty_weight",
            "source",
            "review_status",
            "notes",
        ):
            assert key in rule, (rule["id"], key)
        assert rule["operation"]["type"] in OPERATION_TYPES, rule["id"]
        assert rule["review_status"] in STATUSES
        assert rule["examples"], f"{rule['id']} has no worked example"
        for ex in rule["examples"]:
            assert ex["input"] and ex["output"] and ex["gloss"] and ex["source"], rule["id"]


def test_sources_are_a_riggs_section_or_own_knowledge() -> None:
    pattern = re.compile(r"^Riggs 1852 § \d+(; § \d+)*$")
    for rule in _rules():
        external = rule["source"].startswith("UniMorph Dakota (") and rule["review_status"] == "unverified"
        assert rule["source"] == "own knowledge" or external or pattern.match(rule["source"]), rule["source"]
        if rule["source"] == "own knowledge":
            assert rule["review_status"] == "unverified", rule["id"]
        for ex in rule["examples"]:
            assert (
                ex["source"] == "own knowledge"
                or ex["source"].startswith("UniMorph Dakota (")
                or pattern.match(ex["source"])
            ), ex["source"]


def test_forms_are_nfc_and_canonical_and_file_has_no_comments() -> None:
    text = RULES.read_text(encoding="utf-8")
    assert not any(line.lstrip().startswith("#") for line in text.splitlines())
    for rule in _rules():
        forms = [str(rule["operation"].get("form", ""))] + [ex["output"] for ex in rule["examples"]]
        for form in forms:
            assert unicodedata.is_normalized("NFC", form) and canonicalize(form) == form, (rule["id"], form)
