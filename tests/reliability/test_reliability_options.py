"""Option and input checks that used to end in a traceback or a silent surprise.

| case | before | after |
|---|---|---|
| `eval -n 0`, `-n -3`, `-r 0`, `--temperature -1`, `--max-tokens 0` | pydantic ValidationError traceback, exit 1 | one line naming the flag, exit 2 |
| `eval` into an output folder that cannot be written | the server started first (31 s), then an OSError traceback | one line at once, nothing started |
| `eval` with the disk full when its results are written | ENOSPC traceback; a truncated file left | one line naming the file, exit 2; no partial file |
| sweep `values: "1e-5"` (a string) | iterated per character: runs at lr 1 and lr 5 | one line: `values` must be a list |
| sweep `values: 5` / `values: []` / a dict value | TypeError traceback / zero runs, exit 0 / a failed point | one line each |
| sweep `model.name: values: ["/x/y"]` | every point failed: the run name held `/` | a folder-safe run name |
| `interp view --n 0`, `--n -1 --estimate-only` | empty report, exit 0; "~-0 min" | one line, exit 2 |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import one_error_line, prime_rl

from dakota_rl.config import ConfigError
from dakota_rl.sweep import load_sweep, point_name


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["-n", "0"], "-n/--num-examples"),
        (["-n", "-3"], "-n/--num-examples"),
        (["-r", "0"], "-r/--rollouts"),
        (["--temperature", "-1"], "--temperature"),
        (["--max-tokens", "0"], "--max-tokens"),
    ],
)
def test_eval_option_errors_are_one_line(flags, named):
    assert named in one_error_line(prime_rl("eval", "smollm2-135m-instruct", *flags))


def test_eval_checks_its_output_folder_before_starting_a_server(tmp_path):
    (tmp_path / "a-file").write_text("x")
    started = time.monotonic()
    line = one_error_line(
        prime_rl("eval", "smollm2-135m-instruct", "--output-dir", str(tmp_path / "a-file" / "e"))
    )
    assert "cannot write" in line and time.monotonic() - started < 60


@pytest.mark.slow
def test_eval_on_a_full_disk_is_one_line_and_leaves_no_partial_file(tiny_qwen3, tmp_path):
    import shutil

    model = shutil.copytree(tiny_qwen3, tmp_path / "step_1")
    label_dir = tmp_path / "eval" / "step_1"
    label_dir.mkdir(parents=True)
    (label_dir / "completions.jsonl.tmp").symlink_to("/dev/full")  # every write to the file: ENOSPC
    result = prime_rl(
        "eval", str(model), "-n", "2", "--max-tokens", "4", "--output-dir", str(tmp_path / "eval")
    )
    assert "completions.jsonl: the disk is full" in one_error_line(result)
    assert not (label_dir / "completions.jsonl").exists() and not (label_dir / "summary.json").exists()


def sweep_file(tmp_path: Path, parameters: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"method: grid\nprogram: configs/parallel_translation.toml\nparameters:\n{parameters}")
    return path


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ('  trainer.optim.lr: {values: "1e-5"}\n', "must be a list"),
        ("  max_steps: {values: 5}\n", "must be a list"),
        ("  max_steps: {values: []}\n", "is empty"),
        ("  max_steps: {values: [{a: 1}]}\n", "numbers, text or booleans"),
        ("  max_steps: {}\n", "needs `values"),
    ],
)
def test_sweep_values_are_checked(tmp_path, parameters, message):
    with pytest.raises(ConfigError, match=message):
        load_sweep(sweep_file(tmp_path, parameters))


def test_sweep_run_names_are_folder_safe(tmp_path):
    sweep = load_sweep(sweep_file(tmp_path, '  model.name: {values: ["/x/y", "Qwen/Qwen3-0.6B"]}\n'))
    names = [point_name({"model.name": v["values"]}) for v in [{"values": x} for x in ["/x/y", "a b"]]]
    assert names == ["name_x_y", "namea_b"] and sweep["parameters"]
    assert point_name({"trainer.optim.lr": 2e-05, "local.lora.r": 16}) == "lr2e-05_r16"


@pytest.mark.parametrize("flags", [["--n", "0"], ["--n", "-1", "--estimate-only"], ["--view", "0"]])
def test_interp_view_counts_must_be_positive(tmp_path, flags):
    result = prime_rl(
        "interp", "view", "--models", "dakota-base=smollm2-135m-instruct", "--out", str(tmp_path), *flags
    )
    assert result.returncode == 2 and "must be at least 1" in result.stderr, result.stderr[-2000:]
