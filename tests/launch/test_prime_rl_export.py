"""`prime-rl export`: a synthetic prime-rl run directory (broadcasts/step_N with model.safetensors + STABLE,
no config/tokenizer) becomes HF folders that transformers loads with exactly the broadcast weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from dakota_rl.backends.prime_rl.checkout import PrimeRLError
from dakota_rl.backends.prime_rl.export import export


def broadcast(run: Path, step: int, model, *, stable: bool = True, shard: str | None = None) -> Path:
    """Write what prime-rl's filesystem broadcast writes: HF-named safetensors (+ index) and STABLE."""
    out = run / "broadcasts" / f"step_{step}"
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(out, **kwargs)
    for extra in ("config.json", "generation_config.json"):
        (out / extra).unlink()
    if stable:
        (out / "STABLE").touch()
    return out


@pytest.fixture(scope="module")
def trained(tiny_qwen3, tmp_path_factory):
    """A run directory with broadcasts at steps 100 and 200 (weights shifted by +step/1000) and 201
    unstable."""
    run = tmp_path_factory.mktemp("outputs") / "dakota-400"
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3, dtype=torch.float32)
    states = {}
    for step in (100, 200):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(step / 1000)
        broadcast(run, step, model)
        states[step] = {k: v.clone() for k, v in model.state_dict().items()}
    broadcast(run, 201, model, stable=False)
    (run / "configs").mkdir()
    (run / "configs/trainer.json").write_text(json.dumps({"model": {"name": str(tiny_qwen3)}}))
    (run / "checkpoints/step_200/trainer").mkdir(parents=True)
    return run, states


def assert_same_weights(folder: Path, state: dict[str, torch.Tensor]) -> None:
    loaded = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).state_dict()
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0)


def test_export_latest_is_a_complete_hf_folder(trained, tiny_qwen3, capsys):
    run, states = trained
    out = export(run, "latest", None, None)
    assert out == run / "checkpoints/step_200"
    assert_same_weights(out, states[200])
    assert (out / "trainer").is_dir(), "prime-rl's own checkpoint must be left in place"
    gen = GenerationConfig.from_pretrained(out)
    assert gen.do_sample is True
    tok = AutoTokenizer.from_pretrained(out)
    assert tok("Wićaśta").input_ids == AutoTokenizer.from_pretrained(tiny_qwen3)("Wićaśta").input_ids
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["step"] == 200 and manifest["base_model"] == str(tiny_qwen3)
    assert "model.safetensors" in manifest["files"] and "config.json" in manifest["files"]
    assert (out / "README.md").read_text().startswith("---\n"), "export writes a model card"
    assert "note:" not in capsys.readouterr().out


def test_export_a_step_to_a_chosen_folder(trained, tmp_path):
    run, states = trained
    out = export(run, "100", None, tmp_path / "step100")
    assert out == tmp_path / "step100"
    assert_same_weights(out, states[100])


def test_export_all_exports_every_stable_step(trained, tmp_path, capsys):
    run, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    assert export(copy, "all", None, None) == copy / "checkpoints"
    assert sorted(p.name for p in (copy / "checkpoints").iterdir()) == ["step_100", "step_200"]
    assert "step 100 has no prime-rl checkpoint" in capsys.readouterr().out


def test_sharded_broadcast(tiny_qwen3, tmp_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_qwen3, dtype=torch.float32)
    src = broadcast(tmp_path / "run", 5, model, shard="30MB")
    assert (src / "model.safetensors.index.json").exists()
    out = export(tmp_path / "run", 5, str(tiny_qwen3), None)
    assert len(list(out.glob("model-*-of-*.safetensors"))) > 1
    assert_same_weights(out, model.state_dict())


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("7", r"step 7 has no broadcast .* surviving steps: \[100, 200, 201\]"),
        ("201", "broadcasts/step_201 has no STABLE marker"),
        ("last", "--step must be a number, latest or all"),
    ],
)
def test_step_errors(trained, step, message):
    with pytest.raises(PrimeRLError, match=message):
        export(trained[0], step, None, None)


def test_run_without_broadcasts(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(PrimeRLError, match="no weight broadcasts in"):
        export(tmp_path / "run", "latest", None, None)
    with pytest.raises(PrimeRLError, match="run directory not found"):
        export(tmp_path / "missing", "latest", None, None)


def test_base_model_not_found(trained, tmp_path):
    with pytest.raises(PrimeRLError, match="base model files not found for 'dakota-rl-tests/no-such-model'"):
        export(trained[0], "100", "dakota-rl-tests/no-such-model", tmp_path / "x")
    assert not (tmp_path / "x").exists(), "nothing is written when the base model is missing"
    run = tmp_path / "no-configs"
    shutil.copytree(trained[0] / "broadcasts", run / "broadcasts")
    with pytest.raises(PrimeRLError, match="pass --base-model"):
        export(run, "latest", None, None)


def test_lora_adapter_broadcast_is_refused_clearly(tiny_qwen3, tmp_path):
    step = tmp_path / "run/broadcasts/step_3"
    step.mkdir(parents=True)
    (step / "adapter_model.safetensors").write_bytes(b"")
    (step / "STABLE").touch()
    with pytest.raises(PrimeRLError, match="LoRA adapter only"):
        export(tmp_path / "run", "latest", str(tiny_qwen3), None)
