"""The `dakota_interp` command line end to end on the tiny Qwen3 and the shipped task sets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dakota_interp.cli import build_parser, main


def test_report_end_to_end(tiny_qwen3: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    pytest.importorskip("dakota_grammar_translation.rewards")
    out = tmp_path / "report"
    main(
        [
            "report",
            "--model",
            str(tiny_qwen3),
            "--trained",
            str(tiny_qwen3),
            "--n",
            "2",
            "--generate",
            "2",
            "--pairs",
            "1",
            "--top",
            "1",
            "--out",
            str(out),
        ]
    )
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {
        "Attention",
        "Logit lens",
        "Head ablation",
        "Activation patching",
        "Base vs trained",
    }
    att = results["Attention"]
    for domain in ("dakota", "math"):
        norm = [x for row in att[domain]["entropy_norm"] for x in row]
        assert len(norm) == 2 * 4 and all(0.0 <= x <= 1.0 + 1e-6 for x in norm)
    assert "dakota_special_ratio" in att["dakota"] and "digit_ratio" in att["math"]
    assert results["Logit lens"]["dakota"]["tasks"] == 2
    assert len(results["Logit lens"]["math"]["median_rank"]) == 3  # embeddings + 2 layers
    ablation = results["Head ablation"]
    assert len(ablation["reward_check"]) == 4 and all(0 <= r["base"] <= 1 for r in ablation["reward_check"])
    assert len(results["Activation patching"]["pairs"]) == 1
    diff = results["Base vs trained"]
    assert diff["cka"] == pytest.approx([1.0, 1.0, 1.0])
    assert all(x == 0.0 for row in diff["head_rel_change"] for x in row)
    report = (out / "report.md").read_text()
    for heading in (
        "## Attention",
        "## Logit lens",
        "## Head ablation",
        "## Activation patching",
        "## Figures",
    ):
        assert heading in report
    assert {"entropy_dakota.png", "ablation_math.png", "patch_heads.png", "lens_rank.png"} <= {
        p.name for p in out.glob("*.png")
    }
    assert "written:" in capsys.readouterr().out


def test_fertility_command_writes_json_and_markdown(tiny_qwen3: Path, tmp_path: Path):
    main(["fertility", "--tokenizer", str(tiny_qwen3), "--out", str(tmp_path)])
    data = json.loads((tmp_path / "fertility.json").read_text())
    corpora = data[str(tiny_qwen3)]["corpora"]
    assert corpora["dakota"]["tokens_per_word"] > corpora["english_gloss"]["tokens_per_word"]
    assert "tokens per word" in (tmp_path / "fertility.md").read_text()


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["diff", "--model", "x"], "diff needs --trained"),
        (["lens", "--model", "MISSING"], "cannot load|not found|neither"),
    ],
)
def test_bad_input_gives_one_line_errors(argv, pattern, tmp_path: Path, capsys):
    argv = [str(tmp_path / "missing") if a == "MISSING" else a for a in argv] + ["--out", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert re.search(pattern, err) and err.startswith("dakota-interp: error:") and err.count("\n") == 1
    assert {"fertility", "attention", "lens", "ablate", "patch", "diff", "report", "math-tasks"} <= set(
        build_parser()._subparsers._group_actions[0].choices
    )
