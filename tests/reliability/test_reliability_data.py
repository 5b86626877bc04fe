"""Bad input to the data tools: a review CSV back from a spreadsheet, a malformed Dakota1890 row.

| case | before | after |
|---|---|---|
| correction `=cmd\\|' /C calc'!A0` | written into lexicon.yaml (and ~100 tasks) | refused: row, column named |
| correction with a NUL byte | written | refused: control character |
| the same id twice | last one silently won | refused: both rows named |
| cp1252 (Excel "CSV") file | UnicodeDecodeError traceback | exit 2, one line: save as CSV UTF-8 |
| export of a form starting `=`/`-` | a live formula cell | `'`-prefixed text, stripped again on import |
| correction with U+202E (bidi override), U+200B (zero-width) or a newline | written into lexicon.yaml | refused: control character, row and column named |
| a 5 MB cell | `_csv.Error` traceback | one line naming the row |
| importer: `info` a string, numeric `source_pages`, lone surrogate, deep nesting, bad bytes | whole file aborted | row dropped with its reason, the rest imported |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import review_csv

from data.import_dakota1890 import import_rows
from data.import_dakota1890 import main as import_main
from data.review import ReviewError, export_csv, import_csv

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def source_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO / "data" / "riggs", tmp_path / "riggs"))


def filled(source_dir: Path, *verdicts: tuple[str, str, str, str]) -> str:
    """The exported CSV with (id, verdict, correction, comment) rows filled in; an id may repeat."""
    rows = list(csv.DictReader(io.StringIO(export_csv(source_dir))))
    by_id = {r["id"]: r for r in rows}
    out_rows = []
    for row in rows:
        out_rows.append(row)
    for ident, verdict, correction, comment in verdicts:
        row = dict(by_id[ident], verdict=verdict, correction=correction, comment=comment)
        if by_id[ident]["verdict"]:
            out_rows.append(row)
        else:
            out_rows[out_rows.index(by_id[ident])] = row
            by_id[ident] = row
    return review_csv(out_rows)


def first_lexicon_id(source_dir: Path) -> str:
    return yaml.safe_load((source_dir / "lexicon.yaml").read_text())["entries"][0]["id"]


def snapshot(source_dir: Path) -> tuple[bytes, bytes]:
    return (source_dir / "lexicon.yaml").read_bytes(), (source_dir / "rules.yaml").read_bytes()


@pytest.mark.parametrize(
    ("correction", "comment", "message"),
    [
        ("=cmd|' /C calc'!A0", "", 'column correction: "=cmd'),
        ("+1+1", "", "starts like a spreadsheet formula"),
        ("@SUM(A1)", "", "starts like a spreadsheet formula"),
        ("-2+3", "", "starts like a spreadsheet formula"),
        ("ma\x00ni", "", "control character U+0000"),
        ("mani", '=HYPERLINK("http://x")', "column comment"),
        ("ma\x1bni", "", "control character U+001B"),
        ("ma\u202eni", "", "control character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("ma\u200bni", "", "control character U+200B (ZERO WIDTH SPACE)"),
        ("ma\nni", "", "control character U+000A"),
        ("mani", "looks \u202efine", "column comment: control character U+202E"),
    ],
)
def test_review_import_refuses_formulas_and_control_characters(source_dir, correction, comment, message):
    before = snapshot(source_dir)
    text = filled(source_dir, (first_lexicon_id(source_dir), "corrected", correction, comment))
    with pytest.raises(ReviewError, match="row 2, " if "column" in message else "row 2"):
        try:
            import_csv(text, source_dir)
        except ReviewError as err:
            assert message in str(err)
            raise
    assert snapshot(source_dir) == before


def test_review_import_refuses_an_oversized_cell_on_one_line(source_dir):
    before = snapshot(source_dir)
    text = filled(source_dir, (first_lexicon_id(source_dir), "corrected", "x" * 5_000_000, ""))
    with pytest.raises(ReviewError, match="not a readable CSV row"):
        import_csv(text, source_dir)
    assert snapshot(source_dir) == before


def test_review_import_accepts_a_suffix_and_strips_the_export_escape(source_dir):
    ident = first_lexicon_id(source_dir)
    import_csv(filled(source_dir, (ident, "corrected", "'-pi", "")), source_dir)
    entry = yaml.safe_load((source_dir / "lexicon.yaml").read_text())["entries"][0]
    assert entry["form"] == "-pi"


def test_review_import_flags_duplicate_ids(source_dir):
    ident = first_lexicon_id(source_dir)
    before = snapshot(source_dir)
    text = filled(source_dir, (ident, "approved", "", ""), (ident, "rejected", "", ""))
    with pytest.raises(ReviewError, match=f"{ident!r} is listed twice"):
        import_csv(text, source_dir)
    assert snapshot(source_dir) == before


def test_review_import_of_a_cp1252_file_is_one_line(source_dir, tmp_path):
    path = tmp_path / "review.csv"
    path.write_bytes(
        filled(source_dir, (first_lexicon_id(source_dir), "approved", "", "café")).encode(
            "cp1252", errors="replace"
        )
    )
    before = snapshot(source_dir)
    result = subprocess.run(
        [sys.executable, "-m", "data.review", "import", str(path), "--source-dir", str(source_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not UTF-8" in result.stderr and "CSV UTF-8" in result.stderr
    assert snapshot(source_dir) == before


def test_review_export_neutralises_formula_cells(source_dir):
    lexicon = yaml.safe_load((source_dir / "lexicon.yaml").read_text())
    lexicon["entries"][0]["form"] = "=1+1"
    lexicon["entries"][0]["gloss"] = "@cmd"
    lexicon["entries"][1]["form"] = "-pi"
    (source_dir / "lexicon.yaml").write_text(yaml.safe_dump(lexicon, allow_unicode=True, sort_keys=False))
    rows = list(csv.DictReader(io.StringIO(export_csv(source_dir))))
    assert (rows[0]["form"], rows[0]["meaning"], rows[1]["form"]) == ("'=1+1", "'@cmd", "'-pi")
    assert not any(v.startswith(("=", "+", "-", "@")) for row in rows for v in row.values())


GOOD = {
    "prompt": "Translate this Dakota word to English:\n\nmani",
    "answer": "he walks",
    "info": {"task_type": "word_translation", "source_pages": [12]},
}
BAD_ROWS = [
    (json.dumps({**GOOD, "info": "word_translation"}), "malformed info (not an object)"),
    (
        json.dumps({**GOOD, "info": {"task_type": "word_translation", "source_pages": 12}}),
        "malformed info.source_pages (not a list of pages)",
    ),
    (
        '{"prompt": "Translate: \\ud800", "answer": "x", "info": {"task_type": "word_translation"}}',
        "invalid Unicode (undecodable bytes or a lone surrogate)",
    ),
    ("[" * 100_000 + "]" * 100_000, "not JSON (nested too deeply)"),
]


def test_importer_drops_each_malformed_row_with_its_reason_and_goes_on():
    lines = [row for row, _ in BAD_ROWS] + [json.dumps(GOOD)]
    records, report = import_rows(lines)
    assert [r["answer"] for r in records] == ["he walks"]
    assert {d["line"]: d["reason"] for d in report["rows_dropped"]} == {
        i + 1: why for i, (_, why) in enumerate(BAD_ROWS)
    }


def test_importer_cli_survives_undecodable_bytes(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    bad = json.dumps({**GOOD, "answer": "XX"}).encode().replace(b"XX", b"\xff\xfe")
    src.write_bytes(bad + b"\n" + json.dumps(GOOD).encode() + b"\n")
    assert import_main([str(src), "--out", str(tmp_path / "out.jsonl")]) == 0
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1
    report = json.loads((tmp_path / "out.report.json").read_text())
    assert report["rows_dropped"] == [
        {"line": 1, "reason": "invalid Unicode (undecodable bytes or a lone surrogate)"}
    ]
