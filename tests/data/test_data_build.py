"""The shipped task files: counts, splits, no circular or conflicting tasks, canonical text, manifest,
rebuild."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from dakota_grammar_translation.orthography import canonicalize, match_key
from dakota_grammar_translation.tasks import DATA_DIR, read_tasks
from data.build import FAMILY_TAG, SourceError, build

REPO = Path(__file__).resolve().parents[2]
CONTENT_PREFIXES = ("v-", "n-", "num-", "adv-")


@pytest.fixture(scope="module")
def tasks() -> dict[str, list[dict]]:
    return {split: read_tasks(DATA_DIR / f"tasks_{split}.jsonl") for split in ("train", "heldout")}


def test_counts_split_share_and_difficulty_balance(tasks: dict[str, list[dict]]) -> None:
    train, heldout = tasks["train"], tasks["heldout"]
    assert len(train) >= 8000 and len(heldout) >= 1700  # manifest v2: 8,224 and 1,728
    assert len(heldout) / (len(train) + len(heldout)) >= 0.10
    everything = train + heldout
    shares = Counter(t["difficulty"] for t in everything)
    for difficulty in ("easy", "medium", "hard", "advanced"):
        assert shares[difficulty] / len(everything) >= 0.07, (difficulty, shares)
    assert {t["family"] for t in train} == set(FAMILY_TAG)
    assert all(t["split"] == split for split, ts in tasks.items() for t in ts)


def test_heldout_is_disjoint_by_lexeme_and_by_sentence(tasks: dict[str, list[dict]]) -> None:
    def content(ts: list[dict]) -> set[str]:
        return {lx for t in ts for lx in t["meta"]["lexeme_ids"] if lx.startswith(CONTENT_PREFIXES)}

    assert content(tasks["heldout"]), "held-out has no content lexemes"
    assert not content(tasks["train"]) & content(tasks["heldout"])
    dakota = {
        s: {
            match_key(t["answer"])
            for t in ts
            if t["answer_language"] == "dakota" and t["family"] != "pattern"
        }
        for s, ts in tasks.items()
    }
    assert not dakota["train"] & dakota["heldout"]


def test_no_task_contains_its_gold_in_the_prompt(tasks: dict[str, list[dict]]) -> None:
    for t in tasks["train"] + tasks["heldout"]:
        prompt = match_key(t["prompt"].replace("\n", " "))
        for gold in [t["answer"], *t["alternatives"]]:
            key = match_key(gold)
            assert not re.search(rf"(?<!\w){re.escape(key)}(?!\w)", prompt), (t["id"], gold)


def test_no_prompt_has_two_golds_and_ids_are_durable(tasks: dict[str, list[dict]]) -> None:
    golds: dict[str, set[str]] = defaultdict(set)
    ids = set()
    for t in tasks["train"] + tasks["heldout"]:
        golds[match_key(t["prompt"].replace("\n", " "))].add(match_key(t["answer"]))
        digest = hashlib.sha256((t["family"] + "\n" + t["prompt"]).encode()).hexdigest()[:12]
        assert t["id"] == f"dgt-{FAMILY_TAG[t['family']]}-{digest}"
        ids.add(t["id"])
    assert all(len(g) == 1 for g in golds.values())
    assert len(ids) == sum(len(ts) for ts in tasks.values())


def test_text_is_nfc_and_canonical(tasks: dict[str, list[dict]]) -> None:
    for t in tasks["train"] + tasks["heldout"]:
        for text in [t["answer"], *t["alternatives"], t["meta"]["stem"], t["meta"]["gloss"]]:
            assert unicodedata.is_normalized("NFC", text) and canonicalize(text) == text, (t["id"], text)
        assert all(canonicalize(line) == line for line in t["prompt"].split("\n")), t["id"]
        assert list(t) == [
            "id",
            "split",
            "family",
            "difficulty",
            "prompt",
            "answer",
            "alternatives",
            "answer_language",
            "meta",
        ]


def test_meta_records_rules_sources_and_attestation(tasks: dict[str, list[dict]]) -> None:
    rules = {r["id"] for r in yaml.safe_load((REPO / "data/riggs/rules.yaml").read_text())["rules"]}
    everything = tasks["train"] + tasks["heldout"]
    used = {r for t in everything for r in t["meta"]["rule_ids"]}
    assert used <= rules and len(used) >= 40
    assert any(t["meta"]["attested"] for t in everything) and not all(
        t["meta"]["attested"] for t in everything
    )
    for t in everything:
        assert t["meta"]["source"].startswith(("lexicon:", "attested:")), t["id"]
        assert t["meta"]["review_status"] in {"unverified", "unreviewed", "approved", "corrected"}
    wa = next(t for t in everything if t["answer"] == "mawani")
    assert wa["meta"]["segments"] == [
        {"form": "ma", "kind": "stem"},
        {"form": "wa", "kind": "infix"},
        {"form": "ni", "kind": "stem"},
    ]


def test_manifest_matches_the_files(tasks: dict[str, list[dict]]) -> None:
    manifest = json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))
    for name, info in manifest["files"].items():
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == info["sha256"], name
    for name, digest in manifest["sources"].items():
        assert hashlib.sha256((REPO / name).read_bytes()).hexdigest() == digest, f"{name} changed: rebuild"
    for split, ts in tasks.items():
        counts = Counter((t["family"], t["difficulty"]) for t in ts)
        assert {
            (f, d): n for f, row in manifest["counts"][split].items() for d, n in row.items() if n
        } == dict(counts)
        assert manifest["attested"][split]["attested"] == sum(t["meta"]["attested"] for t in ts)


def test_rebuild_is_byte_identical() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "data.build", "--check"], cwd=REPO, capture_output=True, text=True
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"build time: [\d.]+ s wall, [\d.]+ s CPU", result.stdout)


def test_datasets_loads_the_shipped_files(tmp_path: Path, tasks: dict[str, list[dict]]) -> None:
    import datasets

    files = {split: str(DATA_DIR / f"tasks_{split}.jsonl") for split in tasks}
    loaded = datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path))
    for split, ts in tasks.items():
        assert loaded[split].num_rows == len(ts)
        assert loaded[split][0]["answer"] == ts[0]["answer"]


def test_rejected_entries_are_skipped_and_corrections_applied(tmp_path: Path) -> None:
    src = tmp_path / "riggs"
    shutil.copytree(REPO / "data" / "riggs", src)
    lexicon = yaml.safe_load((src / "lexicon.yaml").read_text(encoding="utf-8"))
    verb = next(e for e in lexicon["entries"] if e["pos"] == "verb" and e["review_status"] != "rejected")
    noun = next(e for e in lexicon["entries"] if e["pos"] == "noun" and e["review_status"] != "rejected")
    verb["review_status"] = "rejected"
    noun["form"], noun["review_status"] = "wićaśtatest", "corrected"
    (src / "lexicon.yaml").write_text(
        yaml.safe_dump(lexicon, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    rules = yaml.safe_load((src / "rules.yaml").read_text(encoding="utf-8"))
    for rule in rules["rules"]:
        if rule["id"] == "negation-sni":
            rule["review_status"] = "rejected"
    (src / "rules.yaml").write_text(
        yaml.safe_dump(rules, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    manifest = build(tmp_path / "out", src)
    records = [
        json.loads(line)
        for split in ("train", "heldout")
        for line in (tmp_path / "out" / f"tasks_{split}.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert manifest["totals"]["train"] > 1000
    shipped = read_tasks(DATA_DIR / "tasks_train.jsonl") + read_tasks(DATA_DIR / "tasks_heldout.jsonl")
    assert any(verb["id"] in r["meta"]["lexeme_ids"] for r in shipped)
    assert any("negation-sni" in r["meta"]["rule_ids"] for r in shipped)
    assert not any(verb["id"] in r["meta"]["lexeme_ids"] for r in records)
    assert not any("negation-sni" in r["meta"]["rule_ids"] for r in records)
    corrected = [r for r in records if noun["id"] in r["meta"]["lexeme_ids"]]
    assert corrected and all("wićaśtatest" in r["prompt"] + r["answer"] for r in corrected)


def test_malformed_source_is_a_one_line_error(tmp_path: Path) -> None:
    src = tmp_path / "riggs"
    shutil.copytree(REPO / "data" / "riggs", src)
    (src / "lexicon.yaml").write_text("entries:\n- id: v-x\n  pos: verb\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"lexicon.yaml: entry 1 \(v-x\): missing `form`"):
        build(tmp_path / "out", src)


def test_data_quality_fixes_hold(tasks: dict[str, list[dict]]) -> None:
    """Dative only where the lexicon says so, uŋk- before vowel-initial verbs (uŋ in the slot only where an
    entry says so), no 'N mitawa' for kin terms,
    and the vocabulary line of a translation gives the English its gold uses."""
    entries = {
        e["id"]: e
        for e in yaml.safe_load((REPO / "data" / "riggs" / "lexicon.yaml").read_text("utf-8"))["entries"]
    }
    everything = tasks["train"] + tasks["heldout"]
    dative = {
        lx for t in everything if "dative-ki" in t["meta"]["rule_ids"] for lx in t["meta"]["lexeme_ids"]
    }
    assert dative and all(entries[lx]["verb"].get("dative") for lx in dative), dative
    answers = {t["answer"] for t in everything if t["answer_language"] == "dakota"}
    after_first_vowel = {
        lx
        for t in everything
        if t["answer_language"] == "dakota" and re.match(r"[aeio]uŋ", t["answer"])
        for lx in t["meta"]["lexeme_ids"]
    }
    # uŋ right after a first vowel only where the entry says so with evidence (ipuza: UniMorph íuŋpuze)
    assert after_first_vowel == {"v-ipuza"}, after_first_vowel
    assert entries["v-ipuza"]["verb"]["un_index"] == 1 and "íuŋpuze" in entries["v-ipuza"]["notes"]
    assert {"uŋkoyakapi", "uŋnikaġapi"} & answers or any(a.startswith("uŋko") for a in answers)
    kin = {i for i, e in entries.items() if e.get("kin_term")}
    assert kin
    for t in everything:
        if t["family"] == "syntax" and set(t["meta"]["lexeme_ids"]) & kin:
            assert not re.search(r"\b(mitawa|nitawa|tawa)\b", t["answer"]), t["id"]
    checked = 0
    for t in everything:
        verbs = [entries[i] for i in t["meta"]["lexeme_ids"] if i in entries and entries[i]["pos"] == "verb"]
        if t["family"] == "translation" and "Vocabulary:" in t["prompt"] and len(verbs) == 1:
            assert f"{verbs[0]['form']} = to {verbs[0]['english']['base']}" in t["prompt"], t["id"]
            checked += 1
    assert checked > 500
