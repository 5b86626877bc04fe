"""Sweeps: the shipped sweep YAML is read by W&B's own loader and argument builder into overrides our
runner accepts, and a 2 x 2 grid (lr x LoRA rank) runs locally on the tiny Qwen3 with a summary table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_parallel_pipeline import pipeline_tokens

from dakota_rl.config import load_config
from dakota_rl.sweep import grid, load_sweep, main, point_from_args, point_name, run_grid

REPO = Path(__file__).resolve().parents[2]
SWEEP = REPO / "sweeps/parallel_translation.yaml"


def test_wandb_reads_the_sweep_and_its_args_become_overrides():
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args, load_sweep_config

    config = load_sweep_config(str(SWEEP))
    assert config == load_sweep(SWEEP) and config["method"] == "grid"
    points = grid(config)
    assert len(points) == 9 and len({point_name(p) for p in points}) == 9
    flags = create_sweep_command_args({"args": {k: {"value": v} for k, v in points[0].items()}})[
        "args_no_equals"
    ]
    params = point_from_args(flags)
    assert params == points[0] and list(params) == list(points[0]), "typed values, in the sweep's order"
    resolved = load_config(["@", str(REPO / config["program"]), *flags])
    assert resolved.config.trainer.optim.lr == points[0]["trainer.optim.lr"]
    assert resolved.local.lora.r == points[0]["local.lora.r"]
    assert config["command"][-2:] == ["${program}", "${args_no_equals}"]


def test_bad_sweep_files_are_one_line_errors(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: grid\n")
    assert main(["grid", str(bad), "--output-dir", str(tmp_path / "o")]) == 2
    assert "needs a `parameters` table" in capsys.readouterr().err


@pytest.mark.slow
def test_two_by_two_grid_runs_locally_with_a_summary(tmp_path, tiny_qwen3, monkeypatch):
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    import wandb

    # W&B fixes its directory for the whole process at the first run (maybe an earlier test's): ask it where.
    wandb_dir = Path(wandb.setup().settings.wandb_dir)
    runs_before = set(wandb_dir.glob("offline-run-*"))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        f"program: {REPO / 'configs/parallel_lora_grpo.toml'}\nmethod: grid\nparameters:\n"
        "  trainer.optim.lr: {values: [1.0e-4, 1.0e-3]}\n  local.lora.r: {values: [2, 4]}\n"
    )
    model = Path(shutil.copytree(tiny_qwen3, tmp_path / "base"))
    extra = pipeline_tokens(tmp_path, model, steps=1)[2:] + ["--local.sft.steps", "0"]
    extra = [t for t in extra if t not in ("--trainer.optim.lr", "1e-3")]
    results = run_grid(sweep, tmp_path / "grid", extra)
    assert [r["summary"]["status"] for r in results] == ["ok"] * 4
    assert {point_name(r["params"]) for r in results} == {
        "lr0.0001_r2",
        "lr0.0001_r4",
        "lr0.001_r2",
        "lr0.001_r4",
    }
    for r in results:
        assert r["summary"]["steps"] == 1 and 0.0 <= r["summary"]["reward/total"] <= 1.0
        adapter = json.loads(
            (
                tmp_path
                / "grid"
                / point_name(r["params"])
                / "checkpoints/step_1/adapter"
                / "adapter_config.json"
            ).read_text()
        )
        assert adapter["r"] == r["params"]["local.lora.r"]
    summary = (tmp_path / "grid" / "summary.md").read_text()
    assert summary.count("| ok |") == 4 and "reward/chrf" in summary
    assert len(set(wandb_dir.glob("offline-run-*")) - runs_before) == 4
