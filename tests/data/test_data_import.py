"""The Dakota1890 importer on the reference sample: which rows it drops, why, and what it keeps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dakota_grammar_translation.orthography import match_key
from dakota_grammar_translation.tasks import read_tasks
from data.build import leaks
from data.import_dakota1890 import import_rows

REPO = Path(__file__).resolve().parents[2]
SAMPLE = "dakota1890/grammar_tasks_complete_v2.sample.jsonl"


def _reasons(report: dict) -> dict[int, str]:
    return {d["line"]: d["reason"] for d in report["rows_dropped"]}


def test_sample_drops_named_rows_for_named_reasons(shared_reference: Path) -> None:
    lines = (shared_reference / SAMPLE).read_text(encoding="utf-8").splitlines()
    records, report = import_rows(lines)
    reasons = _reasons(report)
    assert report["rows"] == 25 and report["kept"] == len(records) == 7
    assert reasons[1] == reasons[2] == "placeholder gold"  # "[verb] šni", "[verb stem 1] + [verb stem 2]"
    assert reasons[3] == reasons[4] == "circular: gold in Examples:"  # "Examples: - demonstrative"
    assert reasons[6] == "circular: gold in Note:"  # "Note: Example of kaška (to bind)"
    assert reasons[7] == "circular: rule description in prompt"  # gold = the description opening the prompt
    assert reasons[9] == reasons[13] == "conflicting duplicate"  # "Oćéti šakowin" with two different golds
    assert reasons[10] == "circular: gold in prompt text"  # quoted 'Oćéti šakowin,' inside the English
    assert reasons[18] == "circular: gold in Note:"  # Mdewakantọnwans
    assert sum(report["dropped"].values()) == 18


def test_kept_rows_are_valid_canonical_and_never_circular(shared_reference: Path) -> None:
    records, _ = import_rows((shared_reference / SAMPLE).read_text(encoding="utf-8").splitlines())
    kept_prompts = {r["prompt"].split("\n")[-1] for r in records}
    assert "kaśka" in kept_prompts  # š was mapped to Riggs's ś
    for r in records:
        assert not leaks(match_key(r["prompt"].replace("\n", " ")), match_key(r["answer"]))
        assert r["meta"]["review_status"] == "unverified" and r["meta"]["source"].startswith("Dakota1890")
    reverse = [r for r in records if r["family"] == "reverse_translation"]
    assert [r["answer"] for r in reverse] == ["Oćéti śakowin"]


def test_english_as_dakota_gold_is_dropped() -> None:
    rows = [
        {
            "prompt": "Translate this English sentence to Dakota:\n\nshoes of soft leather",
            "answer": "the moccasins",
            "info": {"task_type": "reverse_translation"},
        },
        {
            "prompt": "Translate this English sentence to Dakota:\n\nhe walks",
            "answer": "mani",
            "info": {"task_type": "reverse_translation"},
        },
    ]
    records, report = import_rows(json.dumps(r) for r in rows)
    assert _reasons(report) == {1: "english as dakota"}
    assert [r["answer"] for r in records] == ["mani"]


def test_cli_writes_tasks_and_report(tmp_path: Path, shared_reference: Path) -> None:
    out = tmp_path / "imported.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "data.import_dakota1890", str(shared_reference / SAMPLE), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "placeholder gold" in result.stdout and "kept 7" in result.stdout
    assert len(read_tasks(out)) == 7
    report = json.loads(out.with_suffix(".report.json").read_text(encoding="utf-8"))
    assert report["dropped"]["conflicting duplicate"] == 2
