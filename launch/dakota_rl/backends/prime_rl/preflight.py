"""Pre-flight checks before a prime-rl run: each failure is one clear message saying what to do.

What the checks look at (GPUs, the checkout's commit, imports in prime-rl's venv, the environment variables)
comes through a `Machine`, so tests pass a fake one instead of patching internals.
"""

from __future__ import annotations

import netrc
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dakota_rl.backends.prime_rl.checkout import PINNED_COMMIT, Checkout, default_prime_rl_dir, git_head
from dakota_rl.backends.prime_rl.layout import Layout, choose_layout
from dakota_rl.schema import RLKeys

TRAINER_GIB = 18.0
"""GPU memory the trainer needs beside vLLM for Qwen3-0.6B (reference run peaked at 13.9 GiB, plus margin)."""
MIB_PER_GIB = 1024
VLLM_DEFAULT_UTILIZATION = 0.9
"""prime-rl's `inference.vllm.gpu_memory_utilization` default (vLLM's own)."""
MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
"""A taskset id must name a Python module (dotted at most): it is imported, never evaluated."""
IMPORT_ARGV = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)"
"""Imports the modules named on the command line: the names travel as data, never as code."""


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
        return (
            f"nvidia-smi failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:] or proc.returncode}"
        )
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
    try:
        proc = subprocess.run(
            [str(python), "-c", IMPORT_ARGV, *modules], capture_output=True, text=True, timeout=300
        )
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
    which: Callable[[str], str | None] = shutil.which


def taskset_ids(config: RLKeys) -> list[str]:
    """The taskset ids a config trains or evaluates on, as written."""
    orchestrator = config.orchestrator
    sources = [*orchestrator.train.source, *(orchestrator.eval.source if orchestrator.eval else [])]
    return list(dict.fromkeys(s.env.taskset.id for s in sources if s.env.taskset.id))


def env_modules(config: RLKeys) -> list[str]:
    """Python modules of the environments a config trains or evaluates on (taskset ids, `-` read as `_`)."""
    return list(dict.fromkeys(i.replace("-", "_") for i in taskset_ids(config)))


def check_env_ids(config: RLKeys) -> list[Problem]:
    """Every taskset id names a Python module (`pkg` or `pkg.mod`), checked before any id is used."""
    bad = [i for i in taskset_ids(config) if not MODULE_NAME.fullmatch(i.replace("-", "_"))]
    return [
        Problem(
            "environment",
            f"taskset id {i!r} is not a Python module name (letters, digits, _ and -, "
            "dotted at most): fix [orchestrator.*.source.env.taskset] id",
        )
        for i in bad
    ]


def check_gpu(gpus: list[Gpu] | str, gpu_memory_utilization: float, gpu: int = 0) -> list[Problem]:
    """An NVIDIA GPU exists and GPU `gpu` has room for vLLM's share plus the trainer."""
    if isinstance(gpus, str) or not gpus:
        reason = gpus if isinstance(gpus, str) else "nvidia-smi lists no GPU"
        return [
            Problem(
                "gpu",
                f"no NVIDIA GPU ({reason}); the prime-rl backend needs one. "
                "On this machine use `--backend local` (TRL).",
            )
        ]
    chosen = next((g for g in gpus if g.index == gpu), None)
    if chosen is None:
        return [Problem("gpu", f"GPU {gpu} not found (nvidia-smi lists {[g.index for g in gpus]})")]
    need_mib = gpu_memory_utilization * chosen.total_mib + TRAINER_GIB * MIB_PER_GIB
    if chosen.free_mib < need_mib:
        return [
            Problem(
                "gpu-memory",
                (
                    f"GPU {gpu} ({chosen.name}) has {chosen.free_mib / MIB_PER_GIB:.1f} GiB free; the run "
                    f"needs {need_mib / MIB_PER_GIB:.1f} GiB (vLLM {gpu_memory_utilization:.2f} x "
                    f"{chosen.total_mib / MIB_PER_GIB:.1f} GiB + ~{TRAINER_GIB:.0f} GiB trainer). Free the "
                    "GPU (nvidia-smi shows who uses it) or lower gpu_memory_utilization in "
                    "configs/inference_gpu0.toml."
                ),
            )
        ]
    return []


def visible_gpus(gpus: list[Gpu], environ: Mapping[str, str]) -> list[Gpu]:
    """The GPUs prime-rl's launcher may use, in its order: CUDA_VISIBLE_DEVICES when set, else all."""
    chosen = environ.get("CUDA_VISIBLE_DEVICES")
    if chosen is None:
        return list(gpus)
    by_index = {str(g.index): g for g in gpus}
    return [by_index[i.strip()] for i in chosen.split(",") if i.strip() in by_index]


def check_gpu_count(
    layout: Layout, gpus: list[Gpu] | str, environ: Mapping[str, str], gpu_memory_utilization: float
) -> list[Problem]:
    """Enough GPUs for `num_infer_gpus + num_train_gpus`, each with room for its role (vLLM's share or the
    trainer), mapped as prime-rl maps them: inference on the first visible GPUs, the trainer on the next."""
    need = f"{layout.total_gpus} GPUs ({layout.num_infer_gpus} inference + {layout.num_train_gpus} trainer)"
    if isinstance(gpus, str) or not gpus:
        reason = gpus if isinstance(gpus, str) else "nvidia-smi lists no GPU"
        return [
            Problem(
                "gpu",
                f"no NVIDIA GPU ({reason}); this config needs {need}. "
                "On this machine use `--backend local` (TRL).",
            )
        ]
    visible = visible_gpus(gpus, environ)
    if len(visible) < layout.total_gpus:
        shown = (
            f" with CUDA_VISIBLE_DEVICES={environ['CUDA_VISIBLE_DEVICES']}"
            if "CUDA_VISIBLE_DEVICES" in environ
            else ""
        )
        return [
            Problem(
                "gpu",
                f"the config's [deployment] needs {need}, this machine shows {len(visible)}{shown}: "
                "lower num_train_gpus/num_infer_gpus, or on one GPU drop [inference] and "
                "[deployment] (the layout of configs/dakota_400.toml)",
            )
        ]
    short = []
    for role, indices in layout.gpu_roles().items():
        for local in indices:
            gpu = visible[local]
            need_mib = (
                gpu_memory_utilization * gpu.total_mib if role == "inference" else TRAINER_GIB * MIB_PER_GIB
            )
            if gpu.free_mib < need_mib:
                short.append(
                    f"GPU {gpu.index} ({role}) has {gpu.free_mib / MIB_PER_GIB:.1f} GiB free, needs "
                    f"{need_mib / MIB_PER_GIB:.1f}"
                )
    if short:
        return [
            Problem(
                "gpu-memory",
                "; ".join(short) + ". Free those GPUs (nvidia-smi shows who uses them), "
                "choose others with CUDA_VISIBLE_DEVICES, or lower [inference.vllm] gpu_memory_utilization",
            )
        ]
    return []


def check_layout(config: RLKeys, layout: Layout) -> list[Problem]:
    """What the layout needs from the config itself (checked on --dry-run too)."""
    problems = []
    if not layout.multi_node and layout.weight_broadcast == "nccl" and layout.total_gpus < 2:
        problems.append(
            Problem(
                "layout",
                f"NCCL weight broadcast needs at least 2 GPUs, the config uses "
                f'{layout.total_gpus}: set [weight_broadcast] type = "filesystem"',
            )
        )
    if not layout.multi_node and layout.total_gpus > layout.gpus_per_node:
        problems.append(
            Problem(
                "layout",
                f"num_train_gpus + num_infer_gpus = {layout.total_gpus} exceeds "
                f"[deployment] gpus_per_node = {layout.gpus_per_node}",
            )
        )
    inference = config.inference
    if layout.kind == "slurm" and not layout.multi_node and inference is None:
        problems.append(
            Problem(
                "layout",
                "[slurm] without [inference]: the job would start no vLLM; add an "
                "[inference] table (see configs/dakota_400_slurm.toml)",
            )
        )
    if layout.multi_node:
        if layout.num_train_nodes < 1:
            problems.append(Problem("layout", "multi-node [deployment] needs num_train_nodes >= 1"))
        if layout.num_infer_nodes < 1 or inference is None:
            problems.append(
                Problem(
                    "layout",
                    "multi-node [deployment] needs an [inference] table and "
                    "num_infer_nodes >= 1 (prime-rl runs no orchestrator without them)",
                )
            )
        if (
            inference is not None
            and "router" in inference.model_fields_set
            and inference.router in (None, "None")
        ):
            problems.append(
                Problem(
                    "layout",
                    "multi-node runs need inference's router in front of the engines: "
                    'remove router = "None" from [inference]',
                )
            )
    return problems


def check_machine(
    layout: Layout, machine: Machine, *, gpu_memory_utilization: float, gpu: int = 0
) -> list[Problem]:
    """What the layout needs from this machine: GPU 0's memory, enough GPUs, or `sbatch`."""
    if layout.kind == "one-gpu":
        return check_gpu(machine.gpus(), gpu_memory_utilization, gpu)
    if layout.kind == "single-node":
        return check_gpu_count(layout, machine.gpus(), machine.environ, gpu_memory_utilization)
    if machine.which("sbatch") is None:
        return [
            Problem(
                "slurm",
                "sbatch not found: run this on a SLURM login node (prime-rl's `rl` submits the "
                "job there), or add --dry-run to only write the job script",
            )
        ]
    return []


def check_checkout(checkout: Checkout, head: Callable[[Path], str | None]) -> list[Problem]:
    """The checkout exists, is at the pinned commit and has its venv with `rl` and `inference`."""
    where = f"{checkout.root} (set PRIME_RL_DIR or pass --prime-rl-dir to `prime-rl setup` to change it)"
    if not checkout.root.is_dir():
        return [Problem("checkout", f"no prime-rl checkout at {where}: run `prime-rl setup`")]
    commit = head(checkout.root)
    if commit is None:
        return [
            Problem(
                "checkout",
                f"{checkout.root} is not a git checkout of prime-rl: run `prime-rl setup` "
                "with an empty --prime-rl-dir",
            )
        ]
    if commit != PINNED_COMMIT:
        return [
            Problem(
                "checkout",
                f"prime-rl checkout {checkout.root} is at {commit[:9]}, this project needs "
                f"{PINNED_COMMIT[:9]}: run `prime-rl setup` to move it",
            )
        ]
    missing = [n for n in ("python", "rl", "inference") if not checkout.executable(n).exists()]
    if missing:
        return [
            Problem(
                "checkout",
                f"prime-rl's venv {checkout.venv} lacks {', '.join(missing)}: "
                "run `prime-rl setup` (it runs `uv sync --all-extras`)",
            )
        ]
    return []


def check_envs(
    checkout: Checkout, modules: list[str], imports: Callable[[Path, list[str]], str | None]
) -> list[Problem]:
    """The config's environments import inside prime-rl's venv (the launcher, orchestrator and env servers
    all import them there)."""
    problems = []
    for module in modules:
        error = imports(checkout.python, [module])
        if error is not None:
            problems.append(
                Problem(
                    "environment",
                    f"environment `{module}` is not importable in prime-rl's venv "
                    f"({error}): run `prime-rl setup` to install it",
                )
            )
    return problems


def check_wandb(config: RLKeys, environ: Mapping[str, str], wandb_login: Callable[[], bool]) -> list[Problem]:
    """[monitors.wandb] needs a W&B key unless WANDB_MODE is offline or disabled."""
    if config.monitors.wandb is None:
        return []
    if environ.get("WANDB_MODE", "").lower() in ("offline", "disabled") or environ.get("WANDB_API_KEY"):
        return []
    if wandb_login():
        return []
    return [
        Problem(
            "wandb",
            "W&B logging is on ([monitors.wandb]) but no key is set: export WANDB_API_KEY=… "
            "(or `wandb login`), or set WANDB_MODE=offline, or remove [monitors.wandb] "
            "(metrics.jsonl is written either way)",
        )
    ]


def preflight(
    config: RLKeys,
    checkout: Checkout,
    *,
    gpu_memory_utilization: float,
    dry_run: bool,
    machine: Machine | None = None,
    gpu: int = 0,
    layout: Layout | None = None,
) -> list[Problem]:
    """Every problem found (empty: ready). A dry run needs only the checkout, the environments and a
    consistent layout; GPUs, `sbatch` and W&B keys are checked for real runs."""
    machine = machine or Machine()
    layout = layout or choose_layout(config)
    problems = check_layout(config, layout)
    if not dry_run:
        problems += check_machine(layout, machine, gpu_memory_utilization=gpu_memory_utilization, gpu=gpu)
    checkout_problems = check_checkout(checkout, machine.head)
    problems += checkout_problems
    id_problems = check_env_ids(config)
    problems += id_problems
    if not checkout_problems and not id_problems:
        problems += check_envs(checkout, env_modules(config), machine.imports)
    if not dry_run:
        problems += check_wandb(config, machine.environ, machine.wandb_login)
    return problems


def available(prime_rl_dir: Path | str | None = None, machine: Machine | None = None) -> tuple[bool, str]:
    """(True, "") when a CUDA GPU and a prime-rl checkout at the pinned commit are present, else the
    reason."""
    machine = machine or Machine()
    gpus = machine.gpus()
    if isinstance(gpus, str) or not gpus:
        return False, f"no NVIDIA GPU ({gpus if isinstance(gpus, str) else 'nvidia-smi lists none'})"
    problems = check_checkout(Checkout(default_prime_rl_dir(prime_rl_dir, machine.environ)), machine.head)
    return (False, problems[0].message) if problems else (True, "")
