"""Scale-out layouts: which layout a config asks for, the process plan per layout (commands, GPUs, env vars),
pre-flight messages per layout, and `train()` end to end with a stand-in prime-rl checkout whose `rl` records
how it was called (`fake_prime_rl.py`; the real one needs GPUs or a SLURM cluster)."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path

import pytest
from fake_prime_rl import H100, calls, machine, make_checkout
from pydantic import ValidationError

from dakota_rl.backends.prime_rl import train
from dakota_rl.backends.prime_rl.checkout import Checkout, PrimeRLError
from dakota_rl.backends.prime_rl.launcher import slurm_overrides
from dakota_rl.backends.prime_rl.layout import choose_layout
from dakota_rl.backends.prime_rl.plan import build_upstream_plan
from dakota_rl.backends.prime_rl.preflight import Gpu, Machine, preflight, python_imports
from dakota_rl.config import RunConfig, load_config
from dakota_rl.paths import REPO_ROOT
from dakota_rl.schema import MultiNodeDeploymentKeys

CONFIGS = REPO_ROOT / "configs"


def config_of(name: str, *overrides: str) -> RunConfig:
    return load_config(["@", str(CONFIGS / name), *overrides]).config


@pytest.fixture
def fake(tmp_path, monkeypatch):
    checkout = make_checkout(tmp_path / "prime-rl")
    log = tmp_path / "rl-calls.jsonl"
    monkeypatch.setenv("FAKE_LOG", str(log))
    return checkout, log


def train_config(checkout: Checkout, name: str, out: Path, *, dry_run: bool = False, **machine_kw) -> int:
    """`train()` of configs/`name` into `out` with the stand-in `checkout` on `machine(**machine_kw)`."""
    flags = ["--launch.dry-run"] if dry_run else []
    resolved = load_config(["@", str(CONFIGS / name)]).with_overrides([*flags, "--output-dir", str(out)])
    return train(resolved, prime_rl_dir=checkout.root, machine=machine(**machine_kw))


@pytest.mark.parametrize(
    ("name", "kind", "roles"),
    [
        ("dakota_400.toml", "one-gpu", {"inference": (0,), "trainer": (0,)}),
        ("debug_gpu.toml", "one-gpu", {"inference": (0,), "trainer": (0,)}),
        ("dakota_400_2gpu.toml", "single-node", {"inference": (0,), "trainer": (1,)}),
        ("dakota_400_8gpu.toml", "single-node", {"inference": (0, 1), "trainer": (2, 3, 4, 5, 6, 7)}),
        ("dakota_400_slurm.toml", "slurm", {}),
    ],
)
def test_layout_is_read_from_the_config(name, kind, roles):
    layout = choose_layout(config_of(name))
    assert layout.kind == kind and layout.gpu_roles() == roles


def test_layout_details_follow_prime_rl_defaults():
    assert choose_layout(config_of("dakota_400.toml")).weight_broadcast == "filesystem"
    assert choose_layout(config_of("dakota_400_8gpu.toml")).weight_broadcast == "nccl"
    slurm = choose_layout(config_of("dakota_400_slurm.toml"))
    assert (slurm.multi_node, slurm.num_train_nodes, slurm.num_infer_nodes, slurm.gpus_per_node) == (
        True,
        1,
        1,
        8,
    )
    # [deployment] alone asking for inference GPUs: prime-rl must start vLLM, so the launcher adds [inference]
    deployment_only = choose_layout(
        config_of("debug_gpu.toml", "--deployment.num-train-gpus", "3", "--deployment.num-infer-gpus", "1")
    )
    assert deployment_only.kind == "single-node" and deployment_only.add_inference_table
    assert deployment_only.weight_broadcast == "filesystem", "debug_gpu.toml sets filesystem explicitly"
    with pytest.raises(PrimeRLError, match="num_infer_gpus = 0 with num_train_gpus = 2"):
        choose_layout(
            config_of(
                "debug_gpu.toml", "--deployment.num-train-gpus", "2", "--deployment.num-infer-gpus", "0"
            )
        )
    multi_node = {"type": "multi_node", "num_train_nodes": 1}
    with pytest.raises(ValidationError, match=r"needs \[slurm\]"):
        RunConfig.model_validate({"deployment": multi_node})
    unchecked = RunConfig.model_construct(
        deployment=MultiNodeDeploymentKeys(type="multi_node", num_train_nodes=1)
    )
    with pytest.raises(PrimeRLError, match=r"needs a \[slurm\] table"):
        choose_layout(unchecked)


def test_single_node_plan_is_rl_alone_with_the_users_gpus(tmp_path):
    checkout = Checkout(tmp_path / "p")
    layout = choose_layout(config_of("dakota_400_8gpu.toml"))
    plan = build_upstream_plan(
        checkout,
        layout=layout,
        rl_configs=[tmp_path / "rl.toml"],
        output_dir=tmp_path / "o",
        run_name="r",
        launcher_dir=tmp_path / "l",
        path="/usr/bin",
        visible_devices="7,6,5,4,3,2,1,0",
    )
    (rl,) = plan.processes
    assert rl.argv == (
        str(checkout.executable("rl")),
        "@",
        str(tmp_path / "rl.toml"),
        "--output-dir",
        str(tmp_path / "o"),
        "--run.name",
        "r",
    )
    assert rl.env["CUDA_VISIBLE_DEVICES"] == "7,6,5,4,3,2,1,0" and rl.env["UV_NO_SYNC"] == "1"
    assert rl.env["PATH"].startswith(str(checkout.bin_dir)) and rl.ready_url is None
    assert plan.layout == "single-node" and plan.gpus == {"inference": (0, 1), "trainer": (2, 3, 4, 5, 6, 7)}
    unset = build_upstream_plan(
        checkout,
        layout=layout,
        rl_configs=[],
        output_dir=tmp_path,
        run_name="r",
        launcher_dir=tmp_path,
        path="",
        dry_run=True,
    )
    assert "CUDA_VISIBLE_DEVICES" not in unset.processes[0].env, "prime-rl then uses every GPU NVML lists"
    assert unset.processes[0].argv[-1] == "--dry-run"


def test_slurm_plan_runs_in_the_checkout_and_reinstalls_our_envs(tmp_path):
    checkout = Checkout(tmp_path / "p")
    cfg = config_of("dakota_400_slurm.toml")
    flags = slurm_overrides(cfg, checkout)
    assert flags[:2] == ("--slurm.project-dir", str(checkout.root))
    assert flags[2] == "--slurm.pre-run-command"
    command = flags[3]
    assert command.startswith("export UV_NO_SYNC=1 && uv pip install ")
    assert f"uv pip install --no-deps -e {REPO_ROOT / 'environments/dakota_grammar_translation'}" in command
    assert "verifiers" not in command.split("--no-deps")[0], "prime-rl's venv keeps its own verifiers"
    plan = build_upstream_plan(
        checkout,
        layout=choose_layout(cfg),
        rl_configs=[tmp_path / "rl.toml"],
        output_dir=tmp_path,
        run_name="r",
        launcher_dir=tmp_path,
        path="",
        visible_devices="0",
        slurm_overrides=flags,
    )
    (rl,) = plan.processes
    assert rl.argv[-4:] == flags and "CUDA_VISIBLE_DEVICES" not in rl.env, "GPUs are SLURM's to assign"
    assert plan.layout == "slurm" and plan.gpus == {}
    own = config_of(
        "dakota_400_slurm.toml", "--slurm.project-dir", "/shared/prime-rl", "--slurm.pre-run-command", "true"
    )
    assert slurm_overrides(own, checkout) == (), "values in the config win"


def problems(name: str, m: Machine, tmp_path: Path, *overrides: str, dry_run=False, gmu=0.9) -> list[str]:
    checkout = (
        make_checkout(tmp_path / "pre") if not (tmp_path / "pre").exists() else Checkout(tmp_path / "pre")
    )
    return [
        f"[{p.check}] {p.message}"
        for p in preflight(
            config_of(name, *overrides), checkout, gpu_memory_utilization=gmu, dry_run=dry_run, machine=m
        )
    ]


def test_too_few_gpus_per_layout(tmp_path):
    (one,) = problems("dakota_400.toml", machine(gpus="nvidia-smi not found"), tmp_path, gmu=0.45)
    assert one.startswith("[gpu] no NVIDIA GPU (nvidia-smi not found)") and "--backend local" in one
    (eight,) = problems("dakota_400_8gpu.toml", machine(gpus=H100[:4]), tmp_path)
    assert eight == (
        "[gpu] the config's [deployment] needs 8 GPUs (2 inference + 6 trainer), this machine shows 4: "
        "lower num_train_gpus/num_infer_gpus, or on one GPU drop [inference] and [deployment] "
        "(the layout of configs/dakota_400.toml)"
    )
    (hidden,) = problems(
        "dakota_400_8gpu.toml",
        machine(environ={"CUDA_VISIBLE_DEVICES": "0,1,2", "WANDB_API_KEY": "x"}),
        tmp_path,
    )
    assert "this machine shows 3 with CUDA_VISIBLE_DEVICES=0,1,2" in hidden
    (none,) = problems("dakota_400_2gpu.toml", machine(gpus="nvidia-smi not found"), tmp_path)
    assert "no NVIDIA GPU" in none and "needs 2 GPUs (1 inference + 1 trainer)" in none
    (sbatch,) = problems("dakota_400_slurm.toml", machine(sbatch=None), tmp_path)
    assert sbatch.startswith("[slurm] sbatch not found") and "--dry-run" in sbatch


def test_busy_gpus_are_named_by_role(tmp_path):
    busy = [*H100[:3], Gpu(3, "NVIDIA H100 80GB HBM3", 81559, 4000), *H100[4:]]
    busy[0] = Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 60000)
    (msg,) = problems("dakota_400_8gpu.toml", machine(gpus=busy), tmp_path)
    assert msg.startswith(
        "[gpu-memory] GPU 0 (inference) has 58.6 GiB free, needs 71.7; "
        "GPU 3 (trainer) has 3.9 GiB free, needs 18.0."
    )


def test_layout_problems_show_on_dry_run_too(tmp_path):
    no_gpu = machine(gpus="nvidia-smi not found", sbatch=None, environ={})
    (nccl,) = problems("debug_gpu.toml", no_gpu, tmp_path, "--weight-broadcast.type", "nccl", dry_run=True)
    assert (
        nccl
        == "[layout] NCCL weight broadcast needs at least 2 GPUs, the config uses 1: set [weight_broadcast] "
        'type = "filesystem"'
    )
    assert problems("dakota_400_8gpu.toml", no_gpu, tmp_path, dry_run=True) == []
    assert problems("dakota_400_slurm.toml", no_gpu, tmp_path, dry_run=True) == []
    slurm = config_of("dakota_400_slurm.toml")
    slurm.inference = None
    found = preflight(
        slurm, Checkout(tmp_path / "pre"), gpu_memory_utilization=0.9, dry_run=True, machine=no_gpu
    )
    assert [p.message for p in found] == [
        "multi-node [deployment] needs an [inference] table and num_infer_nodes "
        ">= 1 (prime-rl runs no orchestrator without them)"
    ]
    router_off = config_of("dakota_400_slurm.toml", "--inference.router", "None")
    found = preflight(
        router_off, Checkout(tmp_path / "pre"), gpu_memory_utilization=0.9, dry_run=True, machine=no_gpu
    )
    assert [p.message for p in found] == [
        "multi-node runs need inference's router in front of the engines: "
        'remove router = "None" from [inference]'
    ]


def test_train_8gpu_dry_run_needs_no_gpu(fake, tmp_path, capsys):
    checkout, log = fake
    code = train_config(
        checkout,
        "dakota_400_8gpu.toml",
        tmp_path / "o",
        dry_run=True,
        gpus="nvidia-smi not found",
        environ={},
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "layout one node: prime-rl starts vLLM on GPU(s) 0-1 and the trainer on GPU(s) 2-7" in out
    (call,) = calls(log)
    assert call["argv"][-1] == "--dry-run" and call["has_inference"] and call["uv_no_sync"] == "1"
    assert "256 x 8" in out


def test_train_8gpu_runs_rl_alone(fake, tmp_path, capsys):
    checkout, log = fake
    env = {"CUDA_VISIBLE_DEVICES": "0,1,2,3,4,5,6,7", "WANDB_MODE": "offline"}
    code = train_config(checkout, "dakota_400_8gpu.toml", tmp_path / "o", environ=env)
    out = capsys.readouterr().out
    assert code == 0, out
    dry, real = calls(log)
    assert "--dry-run" in dry["argv"] and "--dry-run" not in real["argv"]
    assert real["cuda"] == "0,1,2,3,4,5,6,7" and real["has_inference"]
    plan = json.loads((tmp_path / "o/dakota-400-8gpu-launch/plan.json").read_text())
    assert [p["name"] for p in plan["processes"]] == ["rl"], "no vLLM of ours: prime-rl starts it"
    assert plan["layout"] == "single-node" and plan["gpus"]["trainer"] == [2, 3, 4, 5, 6, 7]
    assert "rl started" in out
    run_dir = tmp_path / "o/dakota-400-8gpu"
    assert f"prime-rl: run finished; logs in {run_dir}/logs. Make HF checkpoints with" in out


def test_train_adds_inference_when_deployment_asks_for_it(fake, tmp_path, capsys):
    checkout, log = fake
    resolved = load_config(
        [
            "@",
            str(CONFIGS / "debug_gpu.toml"),
            "--deployment.num-train-gpus",
            "3",
            "--deployment.num-infer-gpus",
            "1",
        ]
    )
    code = train(
        resolved.with_overrides(["--launch.dry-run", "--output-dir", str(tmp_path / "o")]),
        prime_rl_dir=checkout.root,
        machine=machine(gpus="none", environ={}),
    )
    assert code == 0, capsys.readouterr()
    (call,) = calls(log)
    assert call["has_inference"] and call["argv"].count("@") == 2
    added = tomllib.loads((tmp_path / "o/debug-gpu-launch/layout.toml").read_text())
    assert added == {"inference": {"server": {"host": "127.0.0.1"}}}, "prime-rl's defaults, on loopback"


def test_train_slurm_dry_run_shows_the_job_script(fake, tmp_path, capsys):
    checkout, log = fake
    code = train_config(
        checkout,
        "dakota_400_slurm.toml",
        tmp_path / "o",
        dry_run=True,
        gpus="none",
        sbatch=None,
        environ={},
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "SLURM job script written by prime-rl: " in out and "rl.sbatch" in out
    (call,) = calls(log)
    assert call["argv"][call["argv"].index("--slurm.project-dir") + 1] == str(checkout.root)
    assert call["cuda"] is None


def test_inference_table_on_one_gpu_machine_says_remove_it(fake, tmp_path):
    checkout, log = fake
    with pytest.raises(PrimeRLError, match=r"remove the \[inference\] table: this machine shows one GPU"):
        train_config(checkout, "dakota_400_2gpu.toml", tmp_path, gpus=H100[:1])
    assert calls(log) == []


def test_too_few_gpus_exit_2_before_anything_runs(fake, tmp_path, capsys):
    checkout, log = fake
    code = train_config(checkout, "dakota_400_8gpu.toml", tmp_path, gpus=H100[:2])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and line.startswith("prime-rl: pre-flight [gpu]: the config's [deployment] needs 8 GPUs")
    assert calls(log) == []


@pytest.mark.parametrize(
    "bad_id", ["os;open('pwned','w')", "__import__('os').system('true')", "a b", "x.", "../x"]
)
def test_taskset_id_that_is_not_a_module_is_refused_and_nothing_runs(
    fake, tmp_path, capsys, bad_id, monkeypatch
):
    checkout, log = fake
    monkeypatch.chdir(tmp_path)
    imported = []
    resolved = load_config(
        ["@", str(CONFIGS / "debug_gpu.toml"), "--launch.dry-run", "--output-dir", str(tmp_path / "o")]
    )
    resolved.config.orchestrator.train.source[0].env.taskset.id = bad_id
    code = train(
        resolved,
        prime_rl_dir=checkout.root,
        machine=machine(imports=lambda python, modules: imported.append(modules)),
    )
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2
    assert line == (
        f"prime-rl: pre-flight [environment]: taskset id {bad_id!r} is not a Python module name "
        "(letters, digits, _ and -, dotted at most): fix [orchestrator.*.source.env.taskset] id"
    )
    assert imported == [] and calls(log) == [] and not (tmp_path / "pwned").exists()


def test_import_check_passes_module_names_as_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert python_imports(Path(sys.executable), ["json", "os.path"]) is None
    error = python_imports(Path(sys.executable), ["os;open('pwned','w')"])
    assert error is not None and error.startswith("ModuleNotFoundError")
    assert not (tmp_path / "pwned").exists(), "the name was imported, never executed"
    assert os.listdir(tmp_path) == []
