"""Pre-flight checks before a prime-rl run: each failure is one clear message saying what to do.

What the checks look at (GPUs, the checkout's commit, imports in prime-rl's venv, the environment variables)
comes through a `Machine`, so tests pass a fake one instead of patching internals.
"""

from __future__ import annotations

import netrc
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dakota_rl.backends.prime_rl.checkout import PINNED_COMMIT, Checkout, default_prime_rl_dir, git_head

TRAINER_GIB = 18.0
"""GPU memory the trainer needs beside vLLM for Qwen3-0.6B (reference run peaked at 13.9 GiB, plus margin)."""
MIB_PER_GIB = 1024


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    total_mib: int
    free_mib: int


@dataclass(frozen=True)
class Problem:
    check: str
    message: str


def query_gpus() -> list[Gpu] | str:
    """GPUs as nvidia-smi reports them, or the reason there are none."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return "nvidia-smi not found"
    cmd = [exe, "--query-gpu=index,name,memory.total,memory.free", "--format=csv,noheader,nounits"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"nvidia-smi failed: {err}"
    if proc.returncode != 0:
        return f"nvidia-smi failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:] or proc.returncode}"
    return parse_nvidia_smi(proc.stdout)


def parse_nvidia_smi(text: str) -> list[Gpu]:
    """Parse `nvidia-smi --query-gpu=index,name,memory.total,memory.free --format=csv,noheader,nounits`."""
    gpus = []
    for line in text.strip().splitlines():
        index, name, total, free = (part.strip() for part in line.split(","))
        gpus.append(Gpu(int(index), name, int(float(total)), int(float(free))))
    return gpus


def python_imports(python: Path, modules: list[str]) -> str | None:
    """None when `python` imports every module, else the last line of the error."""
    code = "; ".join(f"import {m}" for m in modules) or "pass"
    try:
        proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=300)
    except OSError as err:
        return str(err)
    if proc.returncode == 0:
        return None
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit code {proc.returncode}"


def has_wandb_login() -> bool:
    """True when ~/.netrc holds W&B credentials (what `wandb login` writes)."""
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


@dataclass
class Machine:
    """What pre-flight looks at. Defaults inspect this machine; tests substitute any of them."""

    gpus: Callable[[], list[Gpu] | str] = query_gpus
    head: Callable[[Path], str | None] = git_head
    imports: Callable[[Path, list[str]], str | None] = python_imports
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    wandb_login: Callable[[], bool] = has_wandb_login


def env_modules(merged: Mapping[str, Any]) -> list[str]:
    """Python modules of the environments a config trains or evaluates on (taskset ids)."""
    orchestrator = merged.get("orchestrator", {})
    sources = list(orchestrator.get("train", {}).get("source", []))
    sources += list((orchestrator.get("eval") or {}).get("source", []))
    ids = [s.get("env", {}).get("taskset", {}).get("id") for s in sources if isinstance(s, dict)]
    return list(dict.fromkeys(i.replace("-", "_") for i in ids if i))


def check_gpu(gpus: list[Gpu] | str, gpu_memory_utilization: float, gpu: int = 0) -> list[Problem]:
    """An NVIDIA GPU exists and GPU `gpu` has room for vLLM's share plus the trainer."""
    if isinstance(gpus, str) or not gpus:
        reason = gpus if isinstance(gpus, str) else "nvidia-smi lists no GPU"
        return [Problem("gpu", f"no NVIDIA GPU ({reason}); the prime-rl backend needs one. "
                               "On this machine use `--backend local` (TRL).")]
    chosen = next((g for g in gpus if g.index == gpu), None)
    if chosen is None:
        return [Problem("gpu", f"GPU {gpu} not found (nvidia-smi lists {[g.index for g in gpus]})")]
    need_mib = gpu_memory_utilization * chosen.total_mib + TRAINER_GIB * MIB_PER_GIB
    if chosen.free_mib < need_mib:
        return [Problem("gpu-memory", (
            f"GPU {gpu} ({chosen.name}) has {chosen.free_mib / MIB_PER_GIB:.1f} GiB free; the run needs "
            f"{need_mib / MIB_PER_GIB:.1f} GiB (vLLM {gpu_memory_utilization:.2f} x "
            f"{chosen.total_mib / MIB_PER_GIB:.1f} GiB + ~{TRAINER_GIB:.0f} GiB trainer). Free the GPU "
            "(nvidia-smi shows who uses it) or lower gpu_memory_utilization in configs/inference_gpu0.toml."))]
    return []


def check_checkout(checkout: Checkout, head: Callable[[Path], str | None]) -> list[Problem]:
    """The checkout exists, is at the pinned commit and has its venv with `rl` and `inference`."""
    where = f"{checkout.root} (set PRIME_RL_DIR or pass --prime-rl-dir to `prime-rl setup` to change it)"
    if not checkout.root.is_dir():
        return [Problem("checkout", f"no prime-rl checkout at {where}: run `prime-rl setup`")]
    commit = head(checkout.root)
    if commit is None:
        return [Problem("checkout", f"{checkout.root} is not a git checkout of prime-rl: run `prime-rl setup` "
                                    "with an empty --prime-rl-dir")]
    if commit != PINNED_COMMIT:
        return [Problem("checkout", f"prime-rl checkout {checkout.root} is at {commit[:9]}, this project needs "
                                    f"{PINNED_COMMIT[:9]}: run `prime-rl setup` to move it")]
    missing = [n for n in ("python", "rl", "inference") if not checkout.executable(n).exists()]
    if missing:
        return [Problem("checkout", f"prime-rl's venv {checkout.venv} lacks {', '.join(missing)}: "
                                    "run `prime-rl setup` (it runs `uv sync --all-extras`)")]
    return []


def check_envs(checkout: Checkout, modules: list[str], imports: Callable[[Path, list[str]], str | None]
               ) -> list[Problem]:
    """The config's environments import inside prime-rl's venv (the launcher, orchestrator and env servers
    all import them there)."""
    problems = []
    for module in modules:
        error = imports(checkout.python, [module])
        if error is not None:
            problems.append(Problem("environment", f"environment `{module}` is not importable in prime-rl's venv "
                                                   f"({error}): run `prime-rl setup` to install it"))
    return problems


def check_wandb(merged: Mapping[str, Any], environ: Mapping[str, str], wandb_login: Callable[[], bool]
                ) -> list[Problem]:
    """[monitors.wandb] needs a W&B key unless WANDB_MODE is offline or disabled."""
    wandb = merged.get("monitors", {}).get("wandb")
    if wandb is None or wandb == "None":
        return []
    if environ.get("WANDB_MODE", "").lower() in ("offline", "disabled") or environ.get("WANDB_API_KEY"):
        return []
    if wandb_login():
        return []
    return [Problem("wandb", "W&B logging is on ([monitors.wandb]) but no key is set: export WANDB_API_KEY=… "
                             "(or `wandb login`), or set WANDB_MODE=offline, or remove [monitors.wandb] "
                             "(metrics.jsonl is written either way)")]


def preflight(
    merged: Mapping[str, Any], checkout: Checkout, *, gpu_memory_utilization: float, dry_run: bool,
    machine: Machine | None = None, gpu: int = 0,
) -> list[Problem]:
    """Every problem found (empty: ready). A dry run needs only the checkout and the environments."""
    machine = machine or Machine()
    problems = [] if dry_run else check_gpu(machine.gpus(), gpu_memory_utilization, gpu)
    checkout_problems = check_checkout(checkout, machine.head)
    problems += checkout_problems
    if not checkout_problems:
        problems += check_envs(checkout, env_modules(merged), machine.imports)
    if not dry_run:
        problems += check_wandb(merged, machine.environ, machine.wandb_login)
    return problems


def available(prime_rl_dir: Path | str | None = None, machine: Machine | None = None) -> tuple[bool, str]:
    """(True, "") when a CUDA GPU and a prime-rl checkout at the pinned commit are present, else the reason."""
    machine = machine or Machine()
    gpus = machine.gpus()
    if isinstance(gpus, str) or not gpus:
        return False, f"no NVIDIA GPU ({gpus if isinstance(gpus, str) else 'nvidia-smi lists none'})"
    problems = check_checkout(Checkout(default_prime_rl_dir(prime_rl_dir, machine.environ)), machine.head)
    return (False, problems[0].message) if problems else (True, "")
