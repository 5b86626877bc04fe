"""The local TRL backend: real GRPO steps on a tiny Qwen3 (full and LoRA), Contract 5 outputs, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import tiny_run_config

from dakota_rl.backends.local import train
from dakota_rl.backends.local.settings import settings_from
from dakota_rl.config import ConfigError, load_config

pytestmark = pytest.mark.slow

# The tiny run with a checkpoint every step, on the morphology family, and two prime-rl keys the local backend
# reports as ignored (`deployment`, the null harness).
RUN = {
    "ckpt.interval": 1,
    "ckpt.keep_last": 1,
    "orchestrator.train.sampling.temperature": 1.0,
    "deployment.num_train_gpus": 1,
    "local.kl_beta": 0.05,
    "local.num_train_tasks": 16,
}
SOURCE = {
    "env.taskset.families": ["morphology"],
    # the random tiny model's answers earn 0 under v2 (no closer to the gold than the lemma)
    "env.taskset.task.reward_version": 1,
    "env.agent.harness.id": "null",
}

CONTRACT_KEYS = {
    "step",
    "reward/total",
    "reward/character",
    "reward/morphology",
    "reward/semantic",
    "kl",
    "entropy",
    "frac_zero_std_groups",
    "format_fail_rate",
    "truncated_rate",
    "exact_rate",
    "step_time_s",
    "loss",
    "lr",
}


@pytest.fixture
def model_dir(tiny_qwen3, tmp_path) -> Path:
    return Path(shutil.copytree(tiny_qwen3, tmp_path / "base"))


def config(tmp_path: Path, model_dir: Path, steps: int, **overrides: object) -> Path:
    return tiny_run_config(
        tmp_path,
        model_dir,
        env="dakota_grammar_translation",
        source=SOURCE,
        max_steps=steps,
        **RUN,
        **overrides,
    )


def metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_settings_map_prime_rl_keys_and_list_ignored_ones(tmp_path, model_dir):
    resolved = load_config(["@", str(config(tmp_path, model_dir, 3)), "--trainer.optim.lr", "3e-6"])
    settings, ignored = settings_from(resolved)
    assert (settings.max_steps, settings.batch_size, settings.group_size) == (3, 4, 2)
    assert settings.lr == 3e-6 and settings.max_completion_tokens == 6
    assert settings.env_options == {"families": ["morphology"], "task": {"reward_version": 1}}
    assert "deployment.num_train_gpus" in ignored
    assert "orchestrator.train.source[0].env.agent.harness.id" in ignored
    assert "max_steps" not in ignored and "model.name" not in ignored


def test_batch_must_divide_into_groups(tmp_path, model_dir):
    resolved = load_config(["@", str(config(tmp_path, model_dir, 1)), "--orchestrator.batch-size", "5"])
    with pytest.raises(ConfigError, match="divisible by group_size"):
        settings_from(resolved)


def test_grpo_full_finetune_checkpoints_and_resumes(tmp_path, model_dir):
    from dakota_grammar_translation.rewards import DEFAULT_WEIGHTS

    cfg = config(tmp_path, model_dir, 2)
    out = tmp_path / "out"
    assert (
        train(load_config(["@", str(cfg)]).with_overrides(["--output-dir", str(out), "--run.name", "full"]))
        == 0
    )
    run_dir = out / "full"
    rows = metrics(run_dir)
    assert [r["step"] for r in rows] == [1, 2]
    assert rows[0].keys() >= CONTRACT_KEYS
    for r in rows:
        weighted = sum(
            getattr(DEFAULT_WEIGHTS, c) * r[f"reward/{c}"] for c in ("character", "morphology", "semantic")
        )
        assert r["reward/total"] == pytest.approx(weighted, abs=1e-5)
        assert 0 <= r["frac_zero_std_groups"] <= 1
    ckpts = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert ckpts == ["step_2"]  # keep_last = 1
    gen = json.loads((run_dir / "checkpoints" / "step_2" / "generation_config.json").read_text())
    assert gen["do_sample"] is True
    assert (run_dir / "curves.png").stat().st_size > 1000

    with pytest.raises(ConfigError, match="not empty"):
        train(load_config(["@", str(cfg)]).with_overrides(["--output-dir", str(out), "--run.name", "full"]))
    assert (
        train(
            load_config(["@", str(cfg), "--max-steps", "3"]).with_overrides(
                ["--output-dir", str(out), "--run.name", "full", "--launch.resume"]
            )
        )
        == 0
    )
    assert [r["step"] for r in metrics(run_dir)] == [1, 2, 3]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step_3"]

    from transformers import AutoModelForCausalLM

    before = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    after = AutoModelForCausalLM.from_pretrained(run_dir / "checkpoints" / "step_3").state_dict()
    assert any(not before[k].equal(after[k]) for k in before)


def test_resume_without_checkpoint_fails_loudly(tmp_path, model_dir):
    with pytest.raises(ConfigError, match="nothing to resume"):
        train(
            load_config(["@", str(config(tmp_path, model_dir, 1))]).with_overrides(
                ["--output-dir", str(tmp_path / "o"), "--run.name", "r", "--launch.resume"]
            ),
        )


def test_grpo_lora_with_sft_warmup_saves_merged_model_and_adapter(tmp_path, model_dir):
    lora = {"local.lora.r": 4, "local.lora.alpha": 8, "local.sft.steps": 1, "local.sft.batch_size": 2}
    cfg = config(tmp_path, model_dir, 1, **lora)
    out = tmp_path / "out"
    assert (
        train(load_config(["@", str(cfg)]).with_overrides(["--output-dir", str(out), "--run.name", "lora"]))
        == 0
    )
    step = out / "lora" / "checkpoints" / "step_1"
    assert (step / "adapter" / "adapter_config.json").is_file()
    assert (step / "model.safetensors").is_file()
    assert (out / "lora" / "sft" / "model" / "config.json").is_file()
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(step)
    assert not any("lora" in k for k in merged.state_dict())
    assert metrics(out / "lora")[0].keys() >= CONTRACT_KEYS


def test_frozen_embeddings_stay_fixed_through_sft_and_grpo(tmp_path, model_dir):
    frozen = {
        "local.freeze_embeddings": True,
        "local.sft.steps": 1,
        "local.sft.batch_size": 2,
        "local.sft.lr": 1e-2,
    }
    cfg = config(tmp_path, model_dir, 1, **frozen)
    out = tmp_path / "out"
    assert (
        train(load_config(["@", str(cfg)]).with_overrides(["--output-dir", str(out), "--run.name", "frozen"]))
        == 0
    )
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    for trained in (out / "frozen" / "sft" / "model", out / "frozen" / "checkpoints" / "step_1"):
        weights = AutoModelForCausalLM.from_pretrained(trained).state_dict()
        assert weights["model.embed_tokens.weight"].equal(base["model.embed_tokens.weight"]), trained
        changed = [k for k, v in weights.items() if not v.equal(base[k])]
        assert changed and all("embed_tokens" not in k and "lm_head" not in k for k in changed), trained
