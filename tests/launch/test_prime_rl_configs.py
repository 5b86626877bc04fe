"""The GPU configs carry the reference run's values and fit the pinned prime-rl schema (typed subset)."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from dakota_rl.schema import InferenceKeys, RLKeys, schema_errors

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
RL_CONFIGS = ["dakota_400.toml", "debug_gpu.toml", "letter_counting.toml"]
LAYOUT_CONFIGS = ["dakota_400_2gpu.toml", "dakota_400_8gpu.toml", "dakota_400_slurm.toml"]
"""The reference run when one GPU is not enough: 1 + 1 GPUs, 2 + 6 GPUs on one node, two SLURM nodes."""


def load(name: str) -> dict:
    return tomllib.loads((CONFIGS / name).read_text(encoding="utf-8"))


def test_dakota_400_reference_values():
    cfg = load("dakota_400.toml")
    assert cfg["model"]["name"] == "Qwen/Qwen3-0.6B"
    assert cfg["max_steps"] == 400
    assert cfg["seq_len"] == 1536
    assert cfg["orchestrator"]["batch_size"] == 256
    assert cfg["orchestrator"]["group_size"] == 8
    assert cfg["orchestrator"]["algo"]["type"] == "grpo"
    assert cfg["orchestrator"]["train"]["sampling"]["max_completion_tokens"] == 512
    assert cfg["trainer"]["optim"]["lr"] == 1e-6
    assert cfg["ckpt"] == {"interval": 100, "keep_last": 3}
    assert cfg["monitors"]["wandb"] == {"project": "dakota-rl", "name": "dakota-400"}
    assert cfg["weight_broadcast"]["type"] == "filesystem"
    assert "inference" not in cfg
    (source,) = cfg["orchestrator"]["train"]["source"]
    assert source["env"]["taskset"]["id"] == "dakota_grammar_translation"
    assert source["env"]["agent"]["harness"]["id"] == "null"
    assert source["env"]["agent"]["runtime"]["type"] == "subprocess"


def test_inference_gpu0_values():
    cfg = load("inference_gpu0.toml")
    assert cfg["router"] == "None"
    assert 0.4 <= cfg["vllm"]["gpu_memory_utilization"] <= 0.5
    assert cfg["vllm"]["max_model_len"] == load("dakota_400.toml")["seq_len"]
    assert cfg["vllm"]["model"] == load("dakota_400.toml")["model"]["name"]
    assert schema_errors(InferenceKeys, cfg) == []


@pytest.mark.parametrize("name", [*RL_CONFIGS, *LAYOUT_CONFIGS])
def test_rl_configs_fit_the_pinned_schema(name):
    cfg = load(name)
    assert schema_errors(RLKeys, cfg) == []
    orch = cfg["orchestrator"]
    assert orch["batch_size"] % orch["group_size"] == 0, (
        "prime-rl requires batch_size divisible by group_size"
    )
    assert orch["train"]["sampling"]["max_completion_tokens"] < cfg["seq_len"]
    assert cfg["ckpt"]["interval"] <= cfg["max_steps"], (
        "a run that never checkpoints leaves nothing to export"
    )


def test_debug_gpu_is_small_and_needs_no_wandb_key():
    cfg = load("debug_gpu.toml")
    assert cfg["max_steps"] <= 10
    assert cfg["orchestrator"]["batch_size"] <= 32
    assert "wandb" not in cfg.get("monitors", {})


def test_every_non_default_value_is_commented():
    """House rule: comments in the TOMLs explain the values (each table or key carries a comment nearby)."""
    for name in [*RL_CONFIGS, *LAYOUT_CONFIGS, "inference_gpu0.toml"]:
        lines = (CONFIGS / name).read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("#"), f"{name} must open with a comment saying what it is for"
        assert sum(line.startswith("#") for line in lines) >= 8, name


@pytest.mark.parametrize(
    ("tree", "where"),
    [
        ({"orchestrator": {"rollouts_per_example": 8}}, "orchestrator.rollouts_per_example"),  # v0.4 name
        ({"wandb": {"project": "x"}}, "wandb"),  # v0.4: [wandb] → [monitors.wandb]
        ({"orchestrator": {"env": [{"id": "dakota"}]}}, "orchestrator.env"),  # v0 [[orchestrator.env]]
        ({"orchestrator": {"sampling": {"max_tokens": 512}}}, "orchestrator.sampling"),
        ({"monitors": {"wandb": {"offline": True}}}, "monitors.wandb.offline"),
        ({"inference": {"vllm": {}}}, "inference"),
    ],
)
def test_schema_rejects_old_or_misplaced_keys(tree, where):
    cfg = load("dakota_400.toml")
    for key, value in tree.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(cfg.get(key), dict) else value
    errors = schema_errors(RLKeys, cfg)
    assert any(e.startswith(where) for e in errors), errors


@pytest.mark.parametrize("name", LAYOUT_CONFIGS)
def test_layout_configs_are_the_reference_run(name):
    """Same experiment as dakota_400.toml (so curves compare); only the deployment and run name differ."""
    cfg, ref = load(name), load("dakota_400.toml")
    for key in ("max_steps", "seq_len", "model", "ckpt", "orchestrator", "trainer"):
        assert cfg[key] == ref[key], key
    assert cfg["run"]["name"] != ref["run"]["name"] and cfg["monitors"]["wandb"]["name"] == cfg["run"]["name"]
    assert cfg["inference"]["vllm"]["max_model_len"] == cfg["seq_len"], "prime-rl does not propagate seq_len"
    assert cfg["weight_broadcast"]["type"] == "nccl"
    text = (CONFIGS / name).read_text(encoding="utf-8")
    assert "When to use it" in text and "Batch arithmetic" in text


def test_layout_configs_gpu_split():
    assert load("dakota_400_2gpu.toml")["deployment"] == {"num_infer_gpus": 1, "num_train_gpus": 1}
    assert load("dakota_400_8gpu.toml")["deployment"] == {"num_infer_gpus": 2, "num_train_gpus": 6}
    slurm = load("dakota_400_slurm.toml")
    assert slurm["deployment"] == {
        "type": "multi_node",
        "num_train_nodes": 1,
        "num_infer_nodes": 1,
        "gpus_per_node": 8,
    }
    assert "project_dir" not in slurm["slurm"], "prime-rl train fills it with the checkout it validated"


@pytest.mark.parametrize(
    ("name", "split"), [("dakota_400.toml", "heldout"), ("letter_counting.toml", "eval")]
)
def test_eval_runs_on_the_held_out_split(name, split):
    cfg = load(name)
    (train_source,) = cfg["orchestrator"]["train"]["source"]
    (eval_source,) = cfg["orchestrator"]["eval"]["source"]
    assert eval_source["env"]["taskset"] == {"id": train_source["env"]["taskset"]["id"], "split": split}
    assert train_source["env"]["taskset"].get("split", "train") == "train"
    assert cfg["orchestrator"]["eval"]["interval"] < cfg["max_steps"]
    assert cfg["orchestrator"]["eval"]["sampling"]["max_completion_tokens"] < cfg["seq_len"]


def test_inference_gpu0_listens_on_loopback_only():
    assert load("inference_gpu0.toml")["server"]["host"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("tree", "where"),
    [
        ({"inference": {}, "deployment": {"num_train_gpus": 1}}, "inference"),  # GPU split not written out
        ({"deployment": {"num_train_gpus": 7, "num_infer_gpus": 2}}, "deployment"),  # 9 > gpus_per_node
        (  # multi-node without [slurm]: a whole-model rule, reported at the root
            {"deployment": {"type": "multi_node", "num_train_nodes": 1, "num_infer_nodes": 1}},
            ': Value error, [deployment] type = "multi_node" needs [slurm]',
        ),
        ({"slurm": {"partiton": "gpu"}}, "slurm.partiton"),
        ({"orchestrator": {"eval": {"source": [], "interval": 50}}}, "orchestrator.eval.source"),
        ({"orchestrator": {"eval": {"every": 50}}}, "orchestrator.eval"),
    ],
)
def test_schema_checks_layout_and_eval_keys(tree, where):
    cfg = load("dakota_400.toml")
    cfg.pop("deployment")
    for key, value in tree.items():
        cfg[key] = {**cfg[key], **value} if isinstance(cfg.get(key), dict) else value
    errors = schema_errors(RLKeys, cfg)
    assert errors and any(e.startswith(where) for e in errors), errors


REAL_SCHEMA = """
import json, sys
from pydantic_config import cli
from prime_rl.configs.rl import RLConfig
from prime_rl.configs.inference import InferenceConfig
from prime_rl.utils.config import dump_resolved_config
kind, path = sys.argv[1:]
cfg = cli(RLConfig if kind == "rl" else InferenceConfig, args=["@", path])
print(json.dumps(dump_resolved_config(cfg), default=str))
"""

needs_real_schema = pytest.mark.skipif(
    not os.environ.get("PRIME_RL_CONFIGS_PYTHON"),
    reason="set PRIME_RL_CONFIGS_PYTHON to a Python 3.12 with prime-rl-configs @ 559b447 and the "
    "environments installed to check against the real schema",
)


def real_resolved(kind: str, name: str) -> dict:
    """configs/`name` as prime-rl's own schema (`kind` "rl" or "inference") resolves it."""
    proc = subprocess.run(
        [os.environ["PRIME_RL_CONFIGS_PYTHON"], "-c", REAL_SCHEMA, kind, str(CONFIGS / name)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_real_schema
@pytest.mark.parametrize("name", [*RL_CONFIGS, "inference_gpu0.toml"])
def test_configs_validate_with_real_prime_rl_schema(name):
    kind = "inference" if name.startswith("inference") else "rl"
    resolved = real_resolved(kind, name)
    cfg = load(name)
    if kind == "rl":
        assert resolved["trainer"]["max_steps"] == cfg["max_steps"]
        assert resolved["trainer"]["model"]["seq_len"] == cfg["seq_len"]
        assert resolved["orchestrator"]["seq_len"] == cfg["seq_len"]
        assert resolved["orchestrator"]["batch_size"] == cfg["orchestrator"]["batch_size"]
        assert resolved["trainer"]["weight_broadcast"]["type"] == "filesystem"
    else:
        assert resolved["router"] is None
        assert resolved["vllm"]["max_model_len"] == cfg["vllm"]["max_model_len"]


def _prime_rl_rl() -> Path | None:
    root = os.environ.get("PRIME_RL_DIR")
    return Path(root) / ".venv/bin/rl" if root and (Path(root) / ".venv/bin/rl").exists() else None


@pytest.mark.skipif(
    _prime_rl_rl() is None,
    reason="set PRIME_RL_DIR to a checkout prepared by `prime-rl setup` to run prime-rl's own dry run",
)
@pytest.mark.parametrize("name", [*RL_CONFIGS, *LAYOUT_CONFIGS])
def test_prime_rl_dry_run_accepts_configs(name, tmp_path, capsys):
    from dakota_rl.backends.prime_rl import train
    from dakota_rl.config import load_config

    code = train(load_config(["@", str(CONFIGS / name), "--launch.dry-run", "--output-dir", str(tmp_path)]))
    out = capsys.readouterr().out
    assert code == 0, out
    cfg = load(name)
    assert f"max_steps                {cfg['max_steps']}" in out
    assert f"{cfg['orchestrator']['batch_size']} x {cfg['orchestrator']['group_size']}" in out


@needs_real_schema
@pytest.mark.parametrize("name", LAYOUT_CONFIGS)
def test_layout_configs_validate_with_real_prime_rl_schema(name):
    resolved = real_resolved("rl", name)
    cfg = load(name)
    assert resolved["trainer"]["weight_broadcast"]["type"] == "nccl"
    assert resolved["orchestrator"]["batch_size"] == cfg["orchestrator"]["batch_size"]
    assert resolved["inference"]["vllm"]["max_model_len"] == cfg["seq_len"]
    assert resolved["orchestrator"]["eval"]["source"][0]["env"]["taskset"]["split"] == "heldout"
    deployment = cfg["deployment"]
    if deployment.get("type") == "multi_node":
        assert resolved["slurm"]["job_name"] == cfg["slurm"]["job_name"]
        assert resolved["inference"]["vllm"]["data_parallel_size"] == deployment["gpus_per_node"]
        assert resolved["orchestrator"]["num_train_workers"] == deployment["num_train_nodes"] * 8
    else:
        assert resolved["inference"]["vllm"]["data_parallel_size"] == deployment["num_infer_gpus"]
        assert resolved["orchestrator"]["num_train_workers"] == deployment["num_train_gpus"]


def test_opsd_layer_turns_the_reference_run_into_self_distillation(tmp_path):
    """configs/dakota_400_opsd.toml over the reference run: prime-rl's opsd, the gold answer as the
    demonstration, its own run name; the TOML written for prime-rl carries it, and the rest is unchanged."""
    from dakota_rl.config import load_config, write_prime_rl_files

    resolved = load_config(
        ["@", str(CONFIGS / "dakota_400.toml"), "@", str(CONFIGS / "dakota_400_opsd.toml")]
    )
    algo = resolved.config.orchestrator.algo
    assert (algo.type, algo.demo_key) == ("opsd", "answer")
    assert resolved.config.run.name == "dakota-400-opsd"
    (written,) = write_prime_rl_files(resolved, tmp_path)
    tree = tomllib.loads(written.read_text(encoding="utf-8"))
    assert tree["orchestrator"]["algo"] == {"type": "opsd", "demo_key": "answer"}
    reference = load("dakota_400.toml")
    assert tree["orchestrator"]["batch_size"] == reference["orchestrator"]["batch_size"]
    assert tree["trainer"] == reference["trainer"]


def test_opsd_keys_are_refused_for_grpo():
    from dakota_rl.config import ConfigError, load_config

    with pytest.raises(ConfigError, match='demo_key and template belong to type = "opsd"'):
        load_config(["@", str(CONFIGS / "dakota_400.toml"), "--orchestrator.algo.demo-key", "answer"])
