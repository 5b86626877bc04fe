"""The parallel-corpus pipeline through the CLI's config: a real LoRA SFT + GRPO run on the tiny Qwen3 with
configs/parallel_lora_grpo.toml, on a corpus the test writes; checkpoints, metrics with every reward
component, curves and an offline W&B run. Also the GPU config's fit to the pinned prime-rl schema."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from dakota_rl.config import load_config

REPO = Path(__file__).resolve().parents[2]
PAIRS = [
    ("good man", "wićaśta waśte"),
    ("two horses", "śuŋkawakaŋ noŋpa"),
    ("they sing", "dowaŋpi"),
    ("I see it", "waŋwaŋyake"),
    ("the dog runs", "śuŋka kiŋ iŋyaŋke"),
    ("three soldiers", "akićita yamni"),
]
LAYER = """
[[orchestrator.train.source]]
name = "parallel_translation"
[orchestrator.train.source.env.taskset]
id = "parallel_translation"
data = "{data}"
direction = "both"
heldout_fraction = 0.2
"""
COMPONENTS = ("chrf", "special", "sanity")


def write_corpus(path: Path) -> Path:
    rows = [{"source": s, "target": t} for s, t in PAIRS]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def pipeline_tokens(tmp_path: Path, model: Path, steps: int = 2) -> list[str]:
    layer = tmp_path / "corpus.toml"
    layer.write_text(LAYER.format(data=write_corpus(tmp_path / "pairs.jsonl")), encoding="utf-8")
    return [
        "@",
        str(REPO / "configs/parallel_lora_grpo.toml"),
        "@",
        str(layer),
        "--model.name",
        str(model),
        "--max-steps",
        str(steps),
        "--ckpt.interval",
        "1",
        "--local.device",
        "cpu",
        "--local.sft.steps",
        "2",
        "--local.sft.batch-size",
        "2",
        "--local.lora.r",
        "4",
        "--local.lora.alpha",
        "8",
        "--orchestrator.batch-size",
        "4",
        "--orchestrator.group-size",
        "2",
        "--orchestrator.train.sampling.max-completion-tokens",
        "8",
        "--trainer.optim.lr",
        "1e-3",
    ]


def test_gpu_config_fits_the_pinned_schema():
    from dakota_rl.schema import RLKeys, schema_errors

    cfg = tomllib.loads((REPO / "configs/parallel_translation.toml").read_text(encoding="utf-8"))
    assert schema_errors(RLKeys, cfg) == []
    assert cfg["orchestrator"]["train"]["source"][0]["env"]["taskset"]["id"] == "parallel_translation"
    local = load_config(["@", str(REPO / "configs/parallel_lora_grpo.toml")])
    assert local.local.lora is not None and local.local.sft.steps > 0
    assert schema_errors(RLKeys, local.merged) == []


@pytest.mark.slow
def test_lora_sft_then_grpo_writes_checkpoints_and_every_component(tmp_path, tiny_qwen3, monkeypatch):
    from dakota_rl.backends.local import train

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    model = Path(shutil.copytree(tiny_qwen3, tmp_path / "base"))
    out = tmp_path / "out"
    assert (
        train(
            load_config(pipeline_tokens(tmp_path, model)).with_overrides(
                ["--output-dir", str(out), "--run.name", "pipe"]
            )
        )
        == 0
    )
    run = out / "pipe"
    assert (run / "sft" / "model" / "config.json").is_file()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_1", "step_2"]
    assert (run / "checkpoints" / "step_2" / "adapter" / "adapter_config.json").is_file()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        weighted = 0.7 * row["reward/chrf"] + 0.15 * row["reward/special"] + 0.15 * row["reward/sanity"]
        assert row["reward/total"] == pytest.approx(weighted, abs=1e-5)
        assert {"kl", "loss", "format_fail_rate", "exact_rate"} <= row.keys()
    assert (run / "curves.png").stat().st_size > 1000
    assert list((tmp_path / "wandb").glob("offline-run-*")), "no offline W&B run was written"
