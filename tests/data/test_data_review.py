"""Review round trip: export CSV → a speaker's verdicts → import back into the YAML (never deleting)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import review_csv

from data.review import ReviewError, export_csv, import_csv

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def source_dir(tmp_path: Path) -> Path:
    src = tmp_path / "riggs"
    shutil.copytree(REPO / "data" / "riggs", src)
    return src


def _fill(text: str, verdicts: dict[str, tuple[str, str, str]]) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        if row["id"] in verdicts:
            row["verdict"], row["correction"], row["comment"] = verdicts[row["id"]]
    return review_csv(rows)


def test_round_trip_updates_status_keeps_history_and_never_deletes(source_dir: Path) -> None:
    exported = export_csv(source_dir)
    before = yaml.safe_load((source_dir / "lexicon.yaml").read_text(encoding="utf-8"))["entries"]
    n_rules = len(yaml.safe_load((source_dir / "rules.yaml").read_text(encoding="utf-8"))["rules"])
    assert len(exported.strip().splitlines()) == 1 + len(before) + n_rules
    first, second = before[0], before[1]
    filled = _fill(
        exported,
        {
            first["id"]: ("corrected", "mańi", "stress mark"),
            second["id"]: ("rejected", "", "not Dakota"),
            "pron-agent-1sg": ("approved", "", ""),
            "negation-sni": ("corrected", "śni", "checked"),
        },
    )
    counts = import_csv(filled, source_dir)
    assert counts == {"approved": 1, "corrected": 2, "rejected": 1}
    after = yaml.safe_load((source_dir / "lexicon.yaml").read_text(encoding="utf-8"))["entries"]
    assert [e["id"] for e in after] == [e["id"] for e in before]  # nothing deleted
    assert after[0]["form"] == "mańi" and after[0]["review_status"] == "corrected"
    assert after[0]["history"][-1]["old"] == first["form"] and "stress mark" in after[0]["notes"]
    assert after[1]["review_status"] == "rejected" and after[1]["form"] == second["form"]
    rules = {
        r["id"]: r for r in yaml.safe_load((source_dir / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    }
    assert rules["pron-agent-1sg"]["review_status"] == "approved"
    assert rules["negation-sni"]["history"][-1]["field"] == "operation.form"
    assert "#" not in (source_dir / "rules.yaml").read_text(encoding="utf-8").split("\n")[0]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("kind,id", "type,id", 1), r"row 1, column header"),
        (lambda t: _fill(t, {"pron-agent-1sg": ("maybe", "", "")}), r"row \d+, column verdict: 'maybe'"),
        (
            lambda t: _fill(t, {"pron-agent-1sg": ("corrected", "", "")}),
            r"row \d+, column correction: required",
        ),
        (
            lambda t: t + "rule,no-such-rule,,,,,approved,,\n",
            r"row \d+, column id: unknown rule id 'no-such-rule'",
        ),
        (lambda t: t + "rule,x,approved\n", r"row \d+, column meaning: expected 9 columns, found 3"),
    ],
)
def test_malformed_csv_is_refused_and_nothing_changes(source_dir: Path, edit, message: str) -> None:
    before = (source_dir / "lexicon.yaml").read_bytes(), (source_dir / "rules.yaml").read_bytes()
    with pytest.raises(ReviewError, match=message):
        import_csv(edit(export_csv(source_dir)), source_dir)
    assert ((source_dir / "lexicon.yaml").read_bytes(), (source_dir / "rules.yaml").read_bytes()) == before


def test_cli_reports_a_one_line_error(source_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("nonsense\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "data.review", "import", str(bad), "--source-dir", str(source_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "row 1, column header" in result.stderr
