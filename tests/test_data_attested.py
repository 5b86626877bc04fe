"""The `attested` split (UniMorph Dakota verb forms): loads through verifiers, every gold scores 1.0, lemma-disjoint
from train, licensed, rebuilt byte for byte from ../shared, and our generator agrees with it on shared verbs."""

from __future__ import annotations

import asyncio

import pytest
import verifiers.v1 as vf

from dakota_grammar_translation.orthography import match_key
from dakota_grammar_translation.tasks import DATA_DIR, load_tasks
from dakota_grammar_translation.taskset import DakotaTasksetConfig
from data.import_unimorph import agreement, check, spelling_key, unimorph_to_riggs

AGREEMENT_FLOOR = 0.98


@pytest.fixture(scope="module")
def attested() -> list[dict]:
    return load_tasks("attested")


def test_attested_split_loads_through_verifiers_and_every_gold_scores_one(attested: list[dict]) -> None:
    taskset = vf.load_taskset(DakotaTasksetConfig(id="dakota_grammar_translation", split="attested"))
    tasks = list(taskset)
    assert len(tasks) == len(attested) >= 3000
    assert {t.data.split for t in tasks} == {"attested"}
    assert all(asyncio.run(t.validate()) for t in tasks)


def test_attested_split_is_lemma_disjoint_from_train_and_heldout(attested: list[dict]) -> None:
    ours = {
        spelling_key(t["meta"]["stem"])
        for split in ("train", "heldout")
        for t in load_tasks(split)
        if t["family"] == "morphology"
    }
    lemmas = {spelling_key(t["meta"]["stem"]) for t in attested}
    assert len(lemmas) >= 500 and not lemmas & ours
    assert all(t["meta"]["attested"] and "CC BY-SA 3.0" in t["meta"]["source"] for t in attested)
    assert all(match_key(t["answer"]) not in match_key(t["prompt"]) for t in attested)


def test_licence_and_attribution_ship_with_the_split() -> None:
    text = (DATA_DIR / "UNIMORPH_LICENSE.md").read_text(encoding="utf-8")
    assert "CC BY-SA 3.0" in text and "LaFontaine" in text and "Chodroff" in text


def test_unimorph_spelling_becomes_riggs_letters() -> None:
    assert unimorph_to_riggs("waṡte") == "waśte"
    assert unimorph_to_riggs("wabdawa") == "wamdawa"
    assert unimorph_to_riggs("icu") == "iću" and unimorph_to_riggs("c̣epa") == "ćepa"
    assert unimorph_to_riggs("ṭi") == "ti" and unimorph_to_riggs("ḳte") == "kte"
    assert unimorph_to_riggs("inażiŋ") == "inaźiŋ"
    assert spelling_key("aṗe") == spelling_key("ape") and spelling_key("śa") != spelling_key("ṡ'a")


def test_import_rebuild_is_byte_identical(shared_reference) -> None:
    assert check(shared_reference / "unimorph-dak") == []


def test_generator_agrees_with_unimorph_on_the_verbs_both_have(shared_reference) -> None:
    agree, total, disagreements = agreement(shared_reference / "unimorph-dak")
    print(f"agreement: {agree}/{total}", *disagreements, sep="\n")
    assert total >= 200 and agree / total >= AGREEMENT_FLOOR


def test_commands_refuse_a_missing_source_with_one_line(tmp_path, capsys) -> None:
    from data.audit import main as audit_main
    from data.import_unimorph import main as import_main

    assert import_main(["--source", str(tmp_path), "--agreement"]) == 2
    assert audit_main([str(tmp_path / "none.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
