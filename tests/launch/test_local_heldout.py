"""In-loop held-out eval, the GRPO objective options and the letter_counting curriculum, on a tiny Qwen3."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import tiny_run_config

from dakota_rl.backends.local import train
from dakota_rl.backends.local.heldout import HeldoutEval, read_rows
from dakota_rl.backends.local.settings import settings_from
from dakota_rl.backends.local.trainer import grpo_config
from dakota_rl.config import load_config
from dakota_rl.envs import load_env


def config(
    tmp_path: Path, model: Path, steps: int, env: str = "dakota_grammar_translation", **overrides: object
) -> Path:
    """The tiny run (tests/configs/tiny_run.toml) on 16 train tasks."""
    return tiny_run_config(
        tmp_path, model, env=env, max_steps=steps, **{"local.num_train_tasks": 16}, **overrides
    )


def test_objective_options_reach_grpo_config(tmp_path, capsys):
    grpo = {
        "local.grpo.loss_type": "dr_grpo",
        "local.grpo.scale_rewards": "none",
        "local.grpo.multi_objective_aggregation": "normalize_then_sum",
        "local.grpo.mask_truncated_completions": True,
        "local.grpo.num_iterations": 2,
    }
    resolved = load_config(["@", str(config(tmp_path, tmp_path, 1, **grpo))])
    settings, _ = settings_from(resolved)
    args = grpo_config(settings, tmp_path, [0.5, 0.3, 0.2], "r")
    assert (args.loss_type, args.scale_rewards, args.multi_objective_aggregation) == (
        "dr_grpo",
        "none",
        "normalize_then_sum",
    )
    assert args.mask_truncated_completions is True and args.num_iterations == 2
    assert (
        train(resolved.with_overrides(["--launch.dry-run", "--output-dir", str(tmp_path), "--run.name", "r"]))
        == 0
    )
    assert '"loss_type": "dr_grpo"' in capsys.readouterr().out


@pytest.mark.slow
def test_in_loop_eval_writes_per_task_rows_that_equal_the_scorer(tiny_qwen3, tmp_path):
    model = Path(shutil.copytree(tiny_qwen3, tmp_path / "base"))
    sft_and_eval = {
        "local.sft.steps": 1,
        "local.sft.batch_size": 2,
        "local.eval.interval": 1,
        "local.eval.num_tasks": 5,
        "local.eval.max_tokens": 6,
    }
    assert (
        train(
            load_config(
                [
                    "@",
                    str(config(tmp_path, model, 2, **sft_and_eval)),
                    "--output-dir",
                    str(tmp_path),
                    "--run.name",
                    "r",
                ]
            )
        )
        == 0
    )
    run = tmp_path / "r"
    env = load_env("dakota_grammar_translation")
    heldout = {t["id"]: t for t in env.load_tasks("heldout")}
    for label in ("base", "step_000000", "step_000001", "step_000002"):
        rows = read_rows(run / "eval" / f"{label}.jsonl")
        assert [r["task_id"] for r in rows] == [r["task_id"] for r in read_rows(run / "eval" / "base.jsonl")]
        assert len(rows) == 5
        for row in rows:
            s = env.score(row["completion"], heldout[row["task_id"]], row["truncated"])
            assert row["total"] == pytest.approx(s.total) and row["exact"] == s.exact
            assert row["morphology"] == pytest.approx(s.morphology) and row["format_ok"] == s.format_ok
    evals = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in evals if "eval/total" in r]
    assert [r["step"] for r in evals] == [0, 1, 2]
    assert evals[0].keys() >= {
        "eval/total",
        "eval/character",
        "eval/exact_rate",
        "eval/format_fail_rate",
        "eval/truncated_rate",
        "eval/n",
    }
    assert any(k.startswith("eval/family/") for k in evals[0])


@pytest.mark.slow
def test_curriculum_tier_moves_with_group_rewards(tiny_qwen3, tmp_path):
    model = Path(shutil.copytree(tiny_qwen3, tmp_path / "base"))
    curriculum = {"start_tier": 3, "window": 2, "up": 0.9, "down": 0.5}
    cfg = config(
        tmp_path, model, 3, "letter_counting", **{f"local.curriculum.{k}": v for k, v in curriculum.items()}
    )
    assert (
        train(load_config(["@", str(cfg)]).with_overrides(["--output-dir", str(tmp_path), "--run.name", "c"]))
        == 0
    )
    rows = [json.loads(line) for line in (tmp_path / "c" / "metrics.jsonl").read_text().splitlines()]
    tiers = [r["curriculum/tier"] for r in rows if "curriculum/tier" in r]
    # A random tiny model never counts right: every window of 2 groups fails, so the tier falls one per step.
    assert tiers == [2.0, 1.0, 1.0]


@pytest.mark.slow
def test_in_loop_eval_equals_vf_eval_per_task_on_the_same_checkpoint(tiny_qwen3, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dakota_rl.evaluate import EvalSettings, evaluate_checkpoint

    ckpt = Path(shutil.copytree(tiny_qwen3, tmp_path / "step_1"))
    settings = EvalSettings(num_examples=4, rollouts=1, max_tokens=8, temperature=0.0)
    evaluate_checkpoint(ckpt, settings, tmp_path / "vf")
    served = [json.loads(line) for line in (tmp_path / "vf" / "completions.jsonl").read_text().splitlines()]
    env = load_env("dakota_grammar_translation")
    by_id = {t["id"]: t for t in env.load_tasks("heldout")}
    heldout = HeldoutEval(env, [by_id[r["task_id"]] for r in served], tmp_path / "inloop", max_tokens=8)
    rows, _ = heldout.run(
        AutoModelForCausalLM.from_pretrained(ckpt), AutoTokenizer.from_pretrained(ckpt), "x"
    )
    assert [r["completion"] for r in rows] == [r["completion"] for r in served]
    assert [r["total"] for r in rows] == pytest.approx([r["reward"] for r in served])
