"""The 2×2 study's command line: model arguments, the estimate printed before a run, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dakota_interp import study
from dakota_interp.cli import main


def test_parse_models_places_labels_in_the_2x2():
    models = study.parse_models(["dakota-base=a", "math-rl=b", "mine=c"])
    assert [(m.label, m.source, m.domain, m.stage) for m in models] == [
        ("dakota-base", "a", "dakota", "base"),
        ("math-rl", "b", "math", "rl"),
        ("mine", "c", None, None),
    ]


@pytest.mark.parametrize(
    "values, message",
    [
        ([], "at least one"),
        (["x=1"] * 2, "given twice"),
        (["no-equals"], "LABEL=MODEL"),
        ([f"m{i}=x" for i in range(5)], "at most four"),
    ],
)
def test_bad_model_arguments_are_refused(values, message):
    with pytest.raises(study.StudyError, match=message):
        study.parse_models(values)


def test_estimate_grows_with_model_size_and_tasks():
    small = {"params": 10**8, "layers": 12, "heads": 8, "hidden": 512, "vocab": 32000}
    big = {"params": 4 * 10**9, "layers": 36, "heads": 32, "hidden": 2560, "vocab": 151936}
    import torch

    a = study.estimate([small], 8, 2, 32, torch.float32)
    b = study.estimate([small, big], 8, 2, 32, torch.bfloat16)
    c = study.estimate([small], 16, 2, 32, torch.float32)
    assert b.peak_bytes > 4e9 * 2 > a.peak_bytes  # bf16 weights of the 4B model dominate the peak
    assert c.seconds > a.seconds and len(b.lines) == 3


def test_unreadable_model_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as exit_info:
        main(["view", "--models", f"dakota-base={tmp_path / 'missing'}", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert (
        exit_info.value.code == 2 and "cannot read the config" in err and len(err.strip().splitlines()) == 1
    )


def test_bench_study_takes_its_tasks_from_the_domains_in_turn():
    from dakota_interp.bench_study import alternating_tasks

    pool = {"dakota": ["d0", "d1", "d2"], "math": ["m0", "m1", "m2"]}
    assert alternating_tasks(pool, 1) == {"dakota": ["d0"], "math": []}
    assert alternating_tasks(pool, 4) == {"dakota": ["d0", "d1"], "math": ["m0", "m1"]}
    assert alternating_tasks(pool, 5) == {"dakota": ["d0", "d1", "d2"], "math": ["m0", "m1"]}
