"""A stand-in prime-rl checkout whose `rl` records how it was called (the real one needs GPUs or a SLURM
cluster), and a `Machine` with eight H100s: what the prime-rl backend's launcher tests run against."""

from __future__ import annotations

import json
import stat
import sys
import textwrap
from pathlib import Path

from dakota_rl.backends.prime_rl import PINNED_COMMIT
from dakota_rl.backends.prime_rl.checkout import Checkout
from dakota_rl.backends.prime_rl.preflight import Gpu, Machine

H100 = [Gpu(i, "NVIDIA H100 80GB HBM3", 81559, 80800) for i in range(8)]


# A stand-in for prime-rl's `rl`: records argv and the GPU/uv variables; on --dry-run writes what prime-rl
# writes (configs/{trainer,orchestrator}.json on one node; configs/rl.json + rl.sbatch under [slurm]).
FAKE_RL = """
import json, os, sys, tomllib
from pathlib import Path
args = sys.argv[1:]
cfg = {}
for i, a in enumerate(args):
    if a == "@":
        cfg.update(tomllib.loads(Path(args[i + 1]).read_text()))
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps({"argv": args, "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
                        "uv_no_sync": os.environ.get("UV_NO_SYNC"),
                        "has_inference": "inference" in cfg}) + "\\n")
run_dir = Path(args[args.index("--output-dir") + 1]) / args[args.index("--run.name") + 1]
if "--dry-run" in args:
    (run_dir / "configs").mkdir(parents=True, exist_ok=True)
    trainer = {"model": {"name": cfg["model"]["name"], "seq_len": cfg["seq_len"]},
               "max_steps": cfg["max_steps"], "optim": {"lr": 1e-6},
               "weight_broadcast": {"type": cfg.get("weight_broadcast", {}).get("type")}}
    orch = {"seq_len": cfg["seq_len"], "batch_size": cfg["orchestrator"]["batch_size"],
            "group_size": cfg["orchestrator"]["group_size"], "train": cfg["orchestrator"]["train"]}
    if "slurm" in cfg and cfg.get("deployment", {}).get("type") != "multi_node":
        (run_dir / "configs/rl.json").write_text(json.dumps({"trainer": trainer, "orchestrator": orch}))
    else:
        (run_dir / "configs/trainer.json").write_text(json.dumps(trainer))
        (run_dir / "configs/orchestrator.json").write_text(json.dumps(orch))
    if "slurm" in cfg:
        (run_dir / "rl.sbatch").write_text("#!/bin/bash\\n")
    print("Dry run complete.")
else:
    print("rl started", flush=True)
"""


def make_checkout(
    root: Path, rl_body: str = FAKE_RL, inference_body: str = "raise SystemExit(3)\n"
) -> Checkout:
    """A directory shaped like a prepared prime-rl checkout (venv python = this interpreter) whose `rl` and
    `inference` are Python scripts with these bodies."""
    checkout = Checkout(root)
    checkout.bin_dir.mkdir(parents=True)
    (root / ".git").mkdir()
    checkout.python.symlink_to(sys.executable)
    for name, body in (("rl", rl_body), ("inference", inference_body)):
        path = checkout.executable(name)
        path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return checkout


def machine(gpus=H100, environ=None, sbatch="/usr/bin/sbatch", imports=None) -> Machine:
    return Machine(
        gpus=lambda: list(gpus) if not isinstance(gpus, str) else gpus,
        head=lambda root: PINNED_COMMIT,
        imports=imports or (lambda python, modules: None),
        environ={"WANDB_API_KEY": "x"} if environ is None else environ,
        wandb_login=lambda: False,
        which=lambda name: sbatch if name == "sbatch" else None,
    )


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
