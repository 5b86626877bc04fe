"""The process plan of a prime-rl run: which commands start, in which order, with which environment.

Pure data, built without touching the machine, so tests can assert it and `launcher.run_plan` executes it.
The single-GPU layout (prime-rl has no first-class colocation at the pinned commit):
  1. `inference @ configs/inference_gpu0.toml` on GPU 0 (vLLM, router off, ~45% of GPU memory), started first
     so vLLM profiles memory before the trainer allocates; the launcher waits for its /health.
  2. `rl @ rl.toml` with no [inference] table: prime-rl counts zero inference GPUs, puts the trainer on GPU 0,
     uses filesystem weight broadcast and points the orchestrator at http://localhost:8000/v1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dakota_rl.backends.prime_rl.checkout import Checkout

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
    checkout: Checkout, rl_configs: Sequence[Path], *, output_dir: Path, run_name: str, resume: bool, clean: bool,
    dry_run: bool,
) -> tuple[str, ...]:
    """`rl @ rl.toml --output-dir … --run.name …` plus the run-control flags prime-rl understands."""
    argv = [str(checkout.executable("rl"))]
    for path in rl_configs:
        argv += ["@", str(path)]
    argv += ["--output-dir", str(output_dir), "--run.name", run_name]
    argv += ["--resume"] if resume else []
    argv += ["--clean"] if clean else []
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
    resume: bool = False,
    clean: bool = False,
    dry_run: bool = False,
) -> ProcessPlan:
    """The run's processes. A dry run is prime-rl's own `rl … --dry-run` alone (no GPU, no vLLM)."""
    run_dir = output_dir / run_name
    rl = ProcessSpec(
        name="rl",
        argv=rl_argv(checkout, rl_configs, output_dir=output_dir, run_name=run_name, resume=resume, clean=clean,
                     dry_run=dry_run),
        env=checkout.run_env(path, CUDA_VISIBLE_DEVICES=gpu),
    )
    if dry_run:
        return ProcessPlan(run_dir=run_dir, launcher_dir=launcher_dir, processes=(rl,))
    inference = ProcessSpec(
        name="inference",
        argv=(str(checkout.executable("inference")), "@", str(inference_config),
              "--vllm.model", model, "--vllm.max-model-len", str(seq_len)),
        env=checkout.run_env(path, CUDA_VISIBLE_DEVICES=gpu),
        log_file=launcher_dir / "inference.log",
        ready_url=f"http://localhost:{port}/health",
    )
    return ProcessPlan(run_dir=run_dir, launcher_dir=launcher_dir, processes=(inference, rl))
