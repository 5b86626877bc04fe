"""The process plan of a prime-rl run: which commands start, in which order, with which environment.

Pure data, built without touching the machine, so tests can assert it and `launcher.run_plan` executes it.
The one-GPU layout (`build_plan`; prime-rl has no first-class colocation at the pinned commit):
  1. `inference @ configs/inference_gpu0.toml` on GPU 0 (vLLM, router off, ~45% of GPU memory), started first
     so vLLM profiles memory before the trainer allocates; the launcher waits for its /health.
  2. `rl @ rl.toml` with no [inference] table: prime-rl counts zero inference GPUs, puts the trainer on GPU 0,
     uses filesystem weight broadcast and points the orchestrator at http://localhost:8000/v1.
The single-node and SLURM layouts (`build_upstream_plan`): `rl @ rl.toml` alone, as upstream runs it; prime-rl
starts vLLM, env servers, orchestrator and trainer itself (or writes and submits `<run>/rl.sbatch`).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dakota_rl.backends.prime_rl.checkout import Checkout
from dakota_rl.backends.prime_rl.layout import Layout

HEALTH_TIMEOUT_S = 1800.0
"""How long to wait for vLLM's /health (the orchestrator itself waits up to 1800 s for the server)."""


@dataclass(frozen=True)
class ProcessSpec:
    """One process the launcher starts, in its own process group."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str]
    """Variables set on top of the launcher's own environment (never the inherited secrets)."""
    log_file: Path | None = None
    """Where its output goes; None streams it to the launcher's stdout (the foreground process)."""
    ready_url: str | None = None
    """Wait until this URL answers 200 before starting the next process."""
    ready_timeout_s: float = HEALTH_TIMEOUT_S


@dataclass(frozen=True)
class ProcessPlan:
    """Processes in start order; the last one runs in the foreground and its exit code is the run's."""

    run_dir: Path
    launcher_dir: Path
    processes: tuple[ProcessSpec, ...] = field(default_factory=tuple)
    layout: str = "one-gpu"
    """`one-gpu`, `single-node` or `slurm` (see layout.py)."""
    gpus: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Local GPU indices per role (`inference`, `trainer`) as prime-rl assigns them; empty for multi-node."""

    def describe(self) -> str:
        """Human-readable commands, one per line (what `prime-rl train` prints before starting)."""
        lines = []
        for spec in self.processes:
            gpu = spec.env.get("CUDA_VISIBLE_DEVICES", "-")
            where = f" > {spec.log_file}" if spec.log_file else ""
            lines.append(f"  [{spec.name}] CUDA_VISIBLE_DEVICES={gpu} {' '.join(spec.argv)}{where}")
            if spec.ready_url:
                lines.append(f"  [{spec.name}] wait for {spec.ready_url}")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str)


def rl_argv(
    checkout: Checkout,
    rl_configs: Sequence[Path],
    *,
    output_dir: Path,
    run_name: str,
    resume: bool,
    dry_run: bool,
) -> tuple[str, ...]:
    """`rl @ rl.toml --output-dir … --run.name …` plus `--resume` / `--dry-run`. Never `--clean`: prime-rl's
    deletes whatever the folder holds, so the launcher cleans a marked run itself (runs.clean_run_dir)."""
    argv = [str(checkout.executable("rl"))]
    for path in rl_configs:
        argv += ["@", str(path)]
    argv += ["--output-dir", str(output_dir), "--run.name", run_name]
    argv += ["--resume"] if resume else []
    argv += ["--dry-run"] if dry_run else []
    return tuple(argv)


def build_plan(
    checkout: Checkout,
    *,
    rl_configs: Sequence[Path],
    inference_config: Path,
    model: str,
    seq_len: int,
    port: int,
    output_dir: Path,
    run_name: str,
    launcher_dir: Path,
    path: str,
    gpu: str = "0",
    host: str | None = None,
    resume: bool = False,
    dry_run: bool = False,
) -> ProcessPlan:
    """The one-GPU run's processes. A dry run is prime-rl's own `rl … --dry-run` alone (no GPU, no vLLM).
    `host` is the inference server's bind address ([server] host), where the launcher waits for /health."""
    run_dir = output_dir / run_name
    gpus = {"inference": (int(gpu),), "trainer": (int(gpu),)} if gpu.isdigit() else {}
    rl = ProcessSpec(
        name="rl",
        argv=rl_argv(
            checkout,
            rl_configs,
            output_dir=output_dir,
            run_name=run_name,
            resume=resume,
            dry_run=dry_run,
        ),
        env=checkout.run_env(path, CUDA_VISIBLE_DEVICES=gpu),
    )
    if dry_run:
        return ProcessPlan(run_dir=run_dir, launcher_dir=launcher_dir, processes=(rl,), gpus=gpus)
    inference = ProcessSpec(
        name="inference",
        argv=(
            str(checkout.executable("inference")),
            "@",
            str(inference_config),
            "--vllm.model",
            model,
            "--vllm.max-model-len",
            str(seq_len),
        ),
        env=checkout.run_env(path, CUDA_VISIBLE_DEVICES=gpu),
        log_file=launcher_dir / "inference.log",
        ready_url=f"http://{host or 'localhost'}:{port}/health",
    )
    return ProcessPlan(run_dir=run_dir, launcher_dir=launcher_dir, processes=(inference, rl), gpus=gpus)


def slurm_env_install(env_dirs: Sequence[Path], dependencies: Sequence[str]) -> str:
    """Shell command for `[slurm] pre_run_command`: reinstall our environments into prime-rl's venv.

    prime-rl's sbatch templates run `uv sync --all-extras --all-packages` on the node before the job, which
    removes packages not in prime-rl's lock (our environments); the pre-run command runs right after it, in
    the activated venv. UV_NO_SYNC=1 keeps the template's later `uv run` calls from syncing again.
    """
    parts = ["export UV_NO_SYNC=1"]
    if dependencies:
        parts.append(shlex.join(["uv", "pip", "install", *dependencies]))
    editable = [arg for d in env_dirs for arg in ("-e", str(d))]
    parts.append(shlex.join(["uv", "pip", "install", "--no-deps", *editable]))
    return " && ".join(parts)


def build_upstream_plan(
    checkout: Checkout,
    *,
    layout: Layout,
    rl_configs: Sequence[Path],
    output_dir: Path,
    run_name: str,
    launcher_dir: Path,
    path: str,
    visible_devices: str | None = None,
    slurm_overrides: Sequence[str] = (),
    resume: bool = False,
    dry_run: bool = False,
) -> ProcessPlan:
    """`rl @ rl.toml` alone: prime-rl launches every process of the single-node or SLURM layout itself.

    CUDA_VISIBLE_DEVICES is passed on only when the user set it (prime-rl maps inference to the first
    `num_infer_gpus` of those GPUs and the trainer to the next); `slurm_overrides` are extra `--slurm.*`
    flags.
    """
    argv = rl_argv(
        checkout,
        rl_configs,
        output_dir=output_dir,
        run_name=run_name,
        resume=resume,
        dry_run=dry_run,
    )
    extra = {"CUDA_VISIBLE_DEVICES": visible_devices} if visible_devices and layout.kind != "slurm" else {}
    rl = ProcessSpec(name="rl", argv=(*argv, *slurm_overrides), env=checkout.run_env(path, **extra))
    return ProcessPlan(
        run_dir=output_dir / run_name,
        launcher_dir=launcher_dir,
        processes=(rl,),
        layout=layout.kind,
        gpus=layout.gpu_roles(),
    )
