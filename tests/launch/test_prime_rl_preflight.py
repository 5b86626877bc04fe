"""Pre-flight: each failure gives its own actionable message; `available()`; `train()` end to end with a
stand-in prime-rl checkout (its `rl`/`inference` are small scripts; the real ones need a GPU)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from fake_prime_rl import make_checkout

from dakota_rl.backends.prime_rl import PINNED_COMMIT, available, train
from dakota_rl.backends.prime_rl.checkout import Checkout, PrimeRLError
from dakota_rl.backends.prime_rl.launcher import check_run_dir, summarize_resolved
from dakota_rl.backends.prime_rl.preflight import (
    Gpu,
    Machine,
    Problem,
    env_modules,
    parse_nvidia_smi,
    preflight,
)
from dakota_rl.config import ConfigError, LaunchConfig, RunConfig, load_config
from dakota_rl.runs import RUN_MARKER, mark_run, run_name

REPO = Path(__file__).resolve().parents[2]
H100 = Gpu(0, "NVIDIA H100 80GB HBM3", 81559, 80800)


def machine(gpus=(H100,), head=PINNED_COMMIT, import_error=None, environ=None, login=False) -> Machine:
    return Machine(
        gpus=lambda: list(gpus) if not isinstance(gpus, str) else gpus,
        head=lambda root: head,
        imports=lambda python, modules: import_error,
        environ={"WANDB_API_KEY": "x"} if environ is None else environ,
        wandb_login=lambda: login,
    )


DAKOTA = load_config(["@", str(REPO / "configs/dakota_400.toml")]).config


def checked(checkout: Checkout, config=DAKOTA, *, dry_run: bool = False, **machine_kw) -> list[Problem]:
    """The pre-flight problems of `config` at a 0.45 GPU share, on `machine(**machine_kw)`."""
    return preflight(
        config, checkout, gpu_memory_utilization=0.45, dry_run=dry_run, machine=machine(**machine_kw)
    )


def messages(problems) -> list[str]:
    return [p.message for p in problems]


def test_parse_nvidia_smi():
    assert parse_nvidia_smi("0, NVIDIA H100 80GB HBM3, 81559, 80800\n1, NVIDIA A10G, 23028, 100\n") == [
        H100,
        Gpu(1, "NVIDIA A10G", 23028, 100),
    ]


def test_ready_machine_has_no_problems(tmp_path):
    assert checked(make_checkout(tmp_path / "p")) == []


def test_no_gpu_suggests_local_backend(tmp_path):
    (msg,) = messages(checked(make_checkout(tmp_path / "p"), gpus="nvidia-smi not found"))
    assert "no NVIDIA GPU (nvidia-smi not found)" in msg and "--backend local" in msg


def test_too_little_free_memory(tmp_path):
    busy = Gpu(0, "NVIDIA A100-SXM4-40GB", 40960, 30000)
    (msg,) = messages(checked(make_checkout(tmp_path / "p"), gpus=[busy]))
    assert "GPU 0 (NVIDIA A100-SXM4-40GB) has 29.3 GiB free; the run needs 36.0 GiB" in msg
    assert "gpu_memory_utilization" in msg


def test_missing_checkout_suggests_setup(tmp_path):
    (msg,) = messages(checked(Checkout(tmp_path / "none")))
    assert msg.startswith(f"no prime-rl checkout at {tmp_path / 'none'}") and "`prime-rl setup`" in msg


def test_wrong_commit_suggests_setup(tmp_path):
    (msg,) = messages(checked(make_checkout(tmp_path / "p"), head="1e756307a" + "0" * 31))
    assert "is at 1e756307a, this project needs 559b44772" in msg and "`prime-rl setup`" in msg


def test_missing_venv_suggests_setup(tmp_path):
    (tmp_path / "p/.git").mkdir(parents=True)
    (msg,) = messages(checked(Checkout(tmp_path / "p")))
    assert "lacks python, rl, inference" in msg and "uv sync --all-extras" in msg


def test_environment_not_importable(tmp_path):
    (msg,) = messages(checked(make_checkout(tmp_path / "p"), import_error="ModuleNotFoundError: No module"))
    assert msg.startswith("environment `dakota_grammar_translation` is not importable in prime-rl's venv")


def test_wandb_key_missing_unless_offline_or_logged_in(tmp_path):
    checkout = make_checkout(tmp_path / "p")
    (msg,) = messages(checked(checkout, environ={}))
    assert "W&B logging is on ([monitors.wandb]) but no key is set" in msg
    assert checked(checkout, environ={"WANDB_MODE": "offline"}) == []
    assert checked(checkout, environ={}, login=True) == []
    debug = load_config(["@", str(REPO / "configs/debug_gpu.toml")]).config
    assert checked(checkout, debug, environ={}) == []


def test_dry_run_needs_no_gpu_and_no_key(tmp_path):
    problems = checked(make_checkout(tmp_path / "p"), dry_run=True, gpus="nvidia-smi not found", environ={})
    assert problems == []


def test_all_problems_are_reported_together(tmp_path):
    problems = checked(Checkout(tmp_path / "none"), gpus="nvidia-smi not found", environ={})
    assert [p.check for p in problems] == ["gpu", "checkout", "wandb"]


def test_available(tmp_path):
    root = make_checkout(tmp_path / "p").root
    assert available(root, machine()) == (True, "")
    ok, reason = available(root, machine(gpus="nvidia-smi not found"))
    assert not ok and reason == "no NVIDIA GPU (nvidia-smi not found)"
    ok, reason = available(tmp_path / "nothing", machine())
    assert not ok and "prime-rl setup" in reason
    ok, reason = available(None, machine(environ={"PRIME_RL_DIR": str(root)}))
    assert ok, reason


def test_env_modules_and_run_name():
    assert env_modules(DAKOTA) == ["dakota_grammar_translation"]
    assert run_name(DAKOTA) == "dakota-400", "the W&B name"
    named = load_config(["@", str(REPO / "configs/dakota_400.toml"), "--run.name", "mine"])
    assert run_name(named.config) == "mine"
    bare = RunConfig.model_validate(
        {"orchestrator": {"train": {"source": [{"env": {"taskset": {"id": "letter_counting"}}}]}}}
    )
    assert run_name(bare) == "letter_counting--qwen3-0.6b"


def test_run_dir_checks(tmp_path):
    run = tmp_path / "run"
    (msg,) = messages(check_run_dir(run, LaunchConfig(resume=True)))
    assert msg.startswith("nothing to resume")
    (run / "configs").mkdir(parents=True)
    assert check_run_dir(run, LaunchConfig()) == []
    (run / "logs").mkdir()
    (msg,) = messages(check_run_dir(run, LaunchConfig()))
    assert "holds a previous run" in msg and "--resume" in msg and "--clean" in msg
    (msg,) = messages(check_run_dir(run, LaunchConfig(clean=True)))
    assert msg.startswith("--clean refused") and RUN_MARKER in msg, "a folder without our marker is kept"
    mark_run(run, "configs")
    assert check_run_dir(run, LaunchConfig(clean=True)) == []
    (run / "checkpoints/step_100").mkdir(parents=True)
    assert check_run_dir(run, LaunchConfig(resume=True)) == []


# A stand-in for prime-rl's `rl`: parses the flags our launcher passes; on --dry-run writes resolved configs
# the way prime-rl does (run_dir/configs/{trainer,orchestrator}.json); otherwise needs the server up.
FAKE_RL = """
import json, os, sys, tomllib, urllib.request
from pathlib import Path
args = sys.argv[1:]
cfg = tomllib.loads(Path(args[args.index("@") + 1]).read_text())
run_dir = Path(args[args.index("--output-dir") + 1]) / args[args.index("--run.name") + 1]
log = Path(os.environ["FAKE_LOG"])
with log.open("a") as f:
    f.write(json.dumps({"argv": args, "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
                        "uv_no_sync": os.environ.get("UV_NO_SYNC")}) + "\\n")
if "--dry-run" in args:
    (run_dir / "configs").mkdir(parents=True, exist_ok=True)
    trainer = {"model": {"name": cfg["model"]["name"], "seq_len": cfg["seq_len"]},
               "max_steps": cfg["max_steps"], "optim": {"lr": cfg["trainer"]["optim"]["lr"]},
               "ckpt": cfg.get("ckpt"), "weight_broadcast": {"type": "filesystem"},
               "monitors": {"wandb": cfg.get("monitors", {}).get("wandb")}}
    orch = {"seq_len": cfg["seq_len"], "batch_size": cfg["orchestrator"]["batch_size"],
            "group_size": cfg["orchestrator"]["group_size"], "train": cfg["orchestrator"]["train"],
            "model": {"client": {"base_url": ["http://localhost:8000/v1"]}}}
    (run_dir / "configs/trainer.json").write_text(json.dumps(trainer))
    (run_dir / "configs/orchestrator.json").write_text(json.dumps(orch))
    print("Dry run complete.")
    sys.exit(0)
urllib.request.urlopen(os.environ["FAKE_HEALTH"], timeout=5)
print("training step 1", flush=True)
"""

FAKE_INFERENCE = """
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(os.environ["FAKE_PORT"])), H).serve_forever()
"""


@pytest.fixture
def stand_in(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checkout = make_checkout(tmp_path / "prime-rl", FAKE_RL, FAKE_INFERENCE)
    inference = tmp_path / "inference.toml"
    inference.write_text(f'router = "None"\n[server]\nport = {port}\n[vllm]\ngpu_memory_utilization = 0.45\n')
    log = tmp_path / "rl-calls.jsonl"
    for key, value in {
        "FAKE_LOG": str(log),
        "FAKE_PORT": str(port),
        "FAKE_HEALTH": f"http://127.0.0.1:{port}/health",
    }.items():
        monkeypatch.setenv(key, value)
    return checkout, inference, log


def test_train_dry_run_shows_prime_rl_resolved_config(stand_in, tmp_path, capsys):
    checkout, inference, log = stand_in
    resolved = load_config(["@", str(REPO / "configs/dakota_400.toml"), "--max-steps", "7"])
    code = train(
        resolved.with_overrides(
            ["--launch.dry-run", "--output-dir", str(tmp_path / "out"), "--launch.clean"]
        ),
        inference_config=inference,
        prime_rl_dir=checkout.root,
        machine=machine(gpus="none", environ={}),
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "max_steps                7" in out and "256 x 8" in out and "dakota-rl/dakota-400" in out
    (call,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert call["argv"][-1] == "--dry-run" and "--clean" not in call["argv"], "a dry run never deletes a run"
    assert call["argv"][call["argv"].index("--output-dir") + 1] == str(
        tmp_path / "out/dakota-400-launch/dry-run"
    )
    assert call["cuda"] == "0" and call["uv_no_sync"] == "1"
    assert not (tmp_path / "out/dakota-400").exists()


def test_train_runs_inference_then_rl(stand_in, tmp_path, capsys):
    checkout, inference, log = stand_in
    resolved = load_config(["@", str(REPO / "configs/debug_gpu.toml")])
    code = train(
        resolved.with_overrides(["--output-dir", str(tmp_path / "out")]),
        inference_config=inference,
        prime_rl_dir=checkout.root,
        machine=machine(environ={}),
    )
    assert code == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "[inference] ready" in out and "training step 1" in out
    dry, real = [json.loads(line)["argv"] for line in log.read_text().splitlines()]
    assert "--dry-run" in dry and "--dry-run" not in real
    assert real[real.index("--output-dir") + 1] == str(tmp_path / "out")
    plan = json.loads((tmp_path / "out/debug-gpu-launch/plan.json").read_text())
    assert [p["name"] for p in plan["processes"]] == ["inference", "rl"]
    assert "max_steps = 5" in (tmp_path / "out/debug-gpu-launch/rl.toml").read_text()


def test_train_refuses_before_starting_anything(stand_in, tmp_path, capsys):
    checkout, inference, log = stand_in
    resolved = load_config(["@", str(REPO / "configs/dakota_400.toml")])
    code = train(
        resolved.with_overrides(["--output-dir", str(tmp_path / "out"), "--launch.resume"]),
        inference_config=inference,
        prime_rl_dir=checkout.root,
        machine=machine(gpus="nvidia-smi not found", environ={}),
    )
    assert code == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split("]")[0] for line in err] == [
        "prime-rl: pre-flight [gpu",
        "prime-rl: pre-flight [wandb",
        "prime-rl: pre-flight [resume",
    ]
    assert not log.exists()


def test_summarize_resolved_reads_prime_rl_json(tmp_path):
    (tmp_path / "envs/train").mkdir(parents=True)
    (tmp_path / "trainer.json").write_text(
        json.dumps(
            {
                "model": {"name": "Qwen/Qwen3-0.6B", "seq_len": 1536},
                "max_steps": 400,
                "optim": {"lr": 1e-6},
                "ckpt": None,
                "weight_broadcast": {"type": "filesystem"},
                "monitors": {},
            }
        )
    )
    (tmp_path / "orchestrator.json").write_text(
        json.dumps({"seq_len": 1536, "batch_size": 256, "group_size": 8})
    )
    (tmp_path / "envs/train/dakota.json").write_text("{}")
    text = summarize_resolved(tmp_path)
    assert "checkpoints              off" in text and "envs/train/dakota.json" in text
    assert "W&B                      off (metrics.jsonl only)" in text
    assert os.path.basename(str(tmp_path)) in text


def test_train_rejects_inference_table_and_missing_inference_config(stand_in, tmp_path):
    checkout, inference, _ = stand_in
    # The typed config tree refuses an [inference] table without the GPU split before any backend runs.
    with pytest.raises(ConfigError, match=r"remove \[inference\] for the one-GPU layout"):
        load_config(
            ["@", str(REPO / "configs/debug_gpu.toml"), "--inference.vllm.gpu-memory-utilization", "0.5"]
        )
    debug = load_config(["@", str(REPO / "configs/debug_gpu.toml")])
    with pytest.raises(PrimeRLError, match="inference config not found"):
        train(
            debug.with_overrides(["--output-dir", str(tmp_path)]),
            inference_config=tmp_path / "nope.toml",
            prime_rl_dir=checkout.root,
            machine=machine(),
        )
