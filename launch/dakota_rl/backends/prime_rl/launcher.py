"""`prime-rl train --backend prime-rl`: pre-flight, prime-rl's own dry run, then vLLM + `rl` under
supervision.

Every process starts in its own process group; on Ctrl-C, SIGTERM, a failed health wait or any process exiting
early, the launcher stops every group it started and returns non-zero.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from dakota_rl.backends.prime_rl.checkout import Checkout, PrimeRLError, default_prime_rl_dir
from dakota_rl.backends.prime_rl.layout import Layout, choose_layout
from dakota_rl.backends.prime_rl.plan import (
    ProcessPlan,
    ProcessSpec,
    build_plan,
    build_upstream_plan,
    slurm_env_install,
)
from dakota_rl.backends.prime_rl.preflight import (
    VLLM_DEFAULT_UTILIZATION,
    Machine,
    Problem,
    env_modules,
    preflight,
    visible_gpus,
)
from dakota_rl.backends.prime_rl.setup import env_dependencies
from dakota_rl.config import LaunchConfig, ResolvedConfig
from dakota_rl.paths import REPO_ROOT
from dakota_rl.runs import (
    RUN_MARKER,
    clean_run_dir,
    is_our_run,
    mark_run,
    resolve_run_dir,
    run_dir,
    run_lock,
    run_name,
)
from dakota_rl.safe_text import check_run_name, check_script_path
from dakota_rl.schema import InferenceKeys, RLKeys
from dakota_rl.workspace import with_workspace_dependencies

DEFAULT_INFERENCE_CONFIG = REPO_ROOT / "configs" / "inference_gpu0.toml"
STOP_GRACE_S = 20.0
DEFAULT_SEQ_LEN = 2048
"""prime-rl's default orchestrator/trainer seq_len at the pinned commit."""


class LaunchError(RuntimeError):
    """A supervised process failed to start or become ready."""


def _dig(tree: dict[str, Any], *keys: str) -> Any:
    """`tree[k1][k2]…` of a JSON file prime-rl wrote, or None where a level is missing."""
    node: Any = tree
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def check_run_dir(run_dir: Path, launch: LaunchConfig) -> list[Problem]:
    """Refuse before starting anything: resuming without checkpoints, reusing a run directory by accident,
    or `--clean` on a folder that is not a run of ours (runs.is_our_run)."""
    resume, clean = launch.resume, launch.clean
    if resume and clean:
        return [Problem("run-dir", "--resume and --clean contradict each other: pick one")]
    if run_dir.is_symlink() or (run_dir.exists() and not run_dir.is_dir()):
        return [Problem("run-dir", f"run folder {run_dir} is a symlink or not a folder: refusing to use it")]
    if clean and run_dir.is_dir() and any(run_dir.iterdir()) and not is_our_run(run_dir):
        return [
            Problem(
                "run-dir",
                f"--clean refused: {run_dir} is not a dakota-rl run folder (no {RUN_MARKER}); "
                "delete it yourself or pick another --run-name",
            )
        ]
    ckpts = sorted((run_dir / "checkpoints").glob("step_*")) if run_dir.is_dir() else []
    if resume and not ckpts:
        return [
            Problem(
                "resume",
                f"nothing to resume: {run_dir}/checkpoints has no step_* "
                "(prime-rl saves every [ckpt] interval steps)",
            )
        ]
    if not resume and not clean and run_dir.is_dir() and any(p.name != "configs" for p in run_dir.iterdir()):
        return [
            Problem(
                "run-dir",
                f"{run_dir} holds a previous run: pass --resume to continue it, --clean to "
                "delete it, or choose another --run.name",
            )
        ]
    return []


def summarize_resolved(config_dir: Path) -> str:
    """The values that matter from prime-rl's resolved trainer/orchestrator configs (written by its dry
    run)."""
    if (config_dir / "trainer.json").exists():
        trainer = json.loads((config_dir / "trainer.json").read_text())
        orch = json.loads((config_dir / "orchestrator.json").read_text())
    else:  # a single-node SLURM dry run writes one rl.json (entrypoints/rl.py `rl_slurm`)
        whole = json.loads((config_dir / "rl.json").read_text())
        trainer, orch = whole["trainer"], whole["orchestrator"]
    ckpt = trainer.get("ckpt") or {}
    wandb = (trainer.get("monitors") or {}).get("wandb") or {}
    envs = [s.get("env", {}).get("taskset", {}).get("id") for s in orch.get("train", {}).get("source", [])]
    rows = [
        ("model", _dig(trainer, "model", "name")),
        ("max_steps", trainer.get("max_steps")),
        ("seq_len", f"trainer {_dig(trainer, 'model', 'seq_len')}, orchestrator {orch.get('seq_len')}"),
        ("lr", _dig(trainer, "optim", "lr")),
        ("batch_size x group_size", f"{orch.get('batch_size')} x {orch.get('group_size')}"),
        ("max_completion_tokens", _dig(orch, "train", "sampling", "max_completion_tokens")),
        (
            "checkpoints",
            f"every {ckpt.get('interval')} steps, keep {ckpt.get('keep_last')}" if ckpt else "off",
        ),
        ("weight broadcast", _dig(trainer, "weight_broadcast", "type")),
        ("inference client", _dig(orch, "model", "client", "base_url")),
        ("environments", ", ".join(str(e) for e in envs)),
        ("W&B", f"{wandb.get('project')}/{wandb.get('name')}" if wandb else "off (metrics.jsonl only)"),
    ]
    files = sorted(str(p.relative_to(config_dir)) for p in config_dir.rglob("*.json"))
    width = max(len(k) for k, _ in rows)
    body = "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)
    return f"resolved by prime-rl ({config_dir}: {', '.join(files)}):\n{body}"


def _start(spec: ProcessSpec) -> subprocess.Popen:
    env = {**os.environ, **spec.env}
    if spec.log_file is not None:
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        with spec.log_file.open("ab") as log:
            return subprocess.Popen(
                spec.argv,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
    return subprocess.Popen(
        spec.argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
        bufsize=1,
    )


def _tail(path: Path | None, lines: int = 20) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in text)


def _wait_ready(spec: ProcessSpec, proc: subprocess.Popen, out: IO[str], poll_s: float) -> None:
    assert spec.ready_url is not None
    start = time.monotonic()
    next_note = start + 30
    while True:
        try:
            with urllib.request.urlopen(spec.ready_url, timeout=5) as resp:
                if resp.status == 200:
                    print(f"[{spec.name}] ready after {time.monotonic() - start:.0f} s", file=out, flush=True)
                    return
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None:
            raise LaunchError(
                f"{spec.name} exited with code {proc.returncode} before {spec.ready_url} answered; "
                f"last lines of {spec.log_file}:\n{_tail(spec.log_file)}"
            )
        now = time.monotonic()
        if now - start > spec.ready_timeout_s:
            raise LaunchError(
                f"{spec.name} not ready after {spec.ready_timeout_s:.0f} s ({spec.ready_url}); "
                f"last lines of {spec.log_file}:\n{_tail(spec.log_file)}"
            )
        if now >= next_note:
            print(
                f"[{spec.name}] waiting for {spec.ready_url} ({now - start:.0f} s; log {spec.log_file})",
                file=out,
                flush=True,
            )
            next_note = now + 30
        time.sleep(poll_s)


def _pump(stream: IO[str], out: IO[str]) -> None:
    for line in stream:
        out.write(line)
        out.flush()


def stop_all(procs: list[subprocess.Popen], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM every started process group (newest first), then SIGKILL what is left after `grace_s`."""
    for proc in reversed(procs):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for proc in reversed(procs):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _report_dead(
    background: list[ProcessSpec], started: list[subprocess.Popen], foreground: str, out: IO[str]
) -> bool:
    """Print the first background process that has exited (with its log's last lines); True if one has."""
    for spec, proc in zip(background, started, strict=False):
        if proc.poll() is not None:
            print(
                f"[{spec.name}] exited with code {proc.returncode} while {foreground} was running; "
                f"last lines of {spec.log_file}:\n{_tail(spec.log_file)}",
                file=out,
                flush=True,
            )
            return True
    return False


def _start_background(
    background: list[ProcessSpec], started: list[subprocess.Popen], out: IO[str], poll_s: float
) -> None:
    """Start the background processes in order (each appended to `started`), waiting for each ready URL."""
    for spec in background:
        print(f"[{spec.name}] starting (log {spec.log_file})", file=out, flush=True)
        started.append(_start(spec))
        if spec.ready_url:
            _wait_ready(spec, started[-1], out, poll_s)


def _run_foreground(
    foreground: ProcessSpec,
    background: list[ProcessSpec],
    started: list[subprocess.Popen],
    out: IO[str],
    poll_s: float,
) -> int:
    """Start the foreground process, stream its output and wait for it: its exit code, or 1 when a background
    process dies first."""
    print(f"[{foreground.name}] starting", file=out, flush=True)
    fg = _start(foreground)
    started.append(fg)
    pump = threading.Thread(target=_pump, args=(fg.stdout, out), daemon=True) if fg.stdout else None
    if pump:
        pump.start()
    while fg.poll() is None:
        if _report_dead(background, started, foreground.name, out):
            return 1
        time.sleep(poll_s)
    if pump:
        pump.join(timeout=10)
    if fg.returncode != 0:
        # a background process that died first (vLLM) is usually why the foreground failed: say so
        _report_dead(background, started, foreground.name, out)
        print(f"[{foreground.name}] exited with code {fg.returncode}", file=out, flush=True)
    return fg.returncode


def run_plan(
    plan: ProcessPlan, *, out: IO[str] | None = None, poll_s: float = 1.0, grace_s: float = STOP_GRACE_S
) -> int:
    """Start the plan's processes in order and supervise them; the foreground (last) process's exit code wins.

    Ctrl-C / SIGTERM → 130; a background process dying or a readiness wait failing → 1. Every started
    process group is stopped before returning.
    """
    out = out or sys.stdout
    started: list[subprocess.Popen] = []
    previous = signal.getsignal(signal.SIGTERM)
    in_main = threading.current_thread() is threading.main_thread()

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if in_main:
        signal.signal(signal.SIGTERM, on_term)
    try:
        *background, foreground = plan.processes
        _start_background(background, started, out, poll_s)
        return _run_foreground(foreground, background, started, out, poll_s)
    except LaunchError as err:
        print(f"prime-rl: {err}", file=out, flush=True)
        return 1
    except KeyboardInterrupt:
        print("prime-rl: interrupted, stopping every process it started", file=out, flush=True)
        return 130
    finally:
        stop_all(started, grace_s)
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def read_inference_config(path: Path) -> InferenceKeys:
    """The standalone vLLM server's config (`inference @ file.toml`), typed; PrimeRLError names a problem."""
    from dakota_rl.config import read_toml, validation_error

    table = read_toml(path, what="inference config", error=PrimeRLError)
    try:
        return InferenceKeys.model_validate(table)
    except ValidationError as err:
        raise PrimeRLError(str(validation_error(err, source=f"{path}: "))) from None


def train(
    resolved: ResolvedConfig,
    *,
    inference_config: Path | None = None,
    prime_rl_dir: Path | None = None,
    machine: Machine | None = None,
) -> int:
    """Run `resolved` with prime-rl in the layout it asks for, as its `[launch]` says; returns the exit code
    (2: a pre-flight problem, each printed on one line). The keywords locate the machine's parts (tests pass
    stand-ins): the one-GPU layout's vLLM config, the prime-rl checkout, the machine.

    A dry run runs prime-rl's `rl … --dry-run` into `<output>/<run>-launch/dry-run/` (never touching the run
    directory) and prints the resolved values. A real run does the same dry run first, then starts the
    layout's processes (layout.py): vLLM + `rl` on GPU 0, or `rl` alone on one node, or `rl` submitting to
    SLURM.
    """
    config, launch = resolved.config, resolved.launch
    machine = machine or Machine()
    layout = choose_layout(config)
    run = RunPaths.of(config)
    checkout = Checkout(default_prime_rl_dir(prime_rl_dir, machine.environ))
    if layout.kind == "one-gpu":
        return _train_one_gpu(resolved, run, checkout, machine, inference_config=inference_config)
    if layout.kind == "single-node" and not launch.dry_run and config.inference is not None:
        gpus = machine.gpus()
        if isinstance(gpus, list) and len(visible_gpus(gpus, machine.environ)) == 1:
            raise PrimeRLError(
                "remove the [inference] table: this machine shows one GPU, where vLLM is started "
                "separately from configs/inference_gpu0.toml (an [inference] table makes prime-rl "
                "want a second GPU)"
            )
    return _train_upstream(resolved, layout, run, checkout, machine)


@dataclass(frozen=True)
class RunPaths:
    """Where a run writes: `<output_dir>/<folder>/` for prime-rl (`folder`: `[run] dir`, else the name),
    `<output_dir>/<name>-launch/` for us."""

    output_dir: Path
    name: str
    folder: str = ""

    @classmethod
    def of(cls, config: RLKeys) -> RunPaths:
        """The run's paths (`runs.run_dir`, absolute); UserError for a name or `[run] dir` that is not one
        plain, shell-safe folder name inside the output folder, or (with `[slurm]`) an output folder a job
        script cannot hold unquoted."""
        folder = run_dir(config).absolute()
        name = check_run_name(run_name(config))
        resolve_run_dir(folder.parent, f"{name}-launch")
        if config.slurm is not None:
            check_script_path(folder.parent, "output folder (rendered into the SLURM job script)")
        return cls(folder.parent, name, folder.name)

    @property
    def run_dir(self) -> Path:
        return self.output_dir / (self.folder or self.name)

    @property
    def launcher_dir(self) -> Path:
        return self.output_dir / f"{self.name}-launch"


def _run_claimed(plan: ProcessPlan, run: RunPaths, launch: LaunchConfig) -> int:
    """Run `plan` holding the run folder (runs.py): its lock for the launch, `--clean` done here on a marked
    run only (prime-rl's own `--clean` is never passed: it deletes whatever the folder is), then the marker in
    `configs/`, the one place prime-rl's `rl` counts as launcher-written."""
    with run_lock(run.run_dir):
        if launch.clean:
            clean_run_dir(run.run_dir)
        mark_run(run.run_dir, "configs")
        (run.launcher_dir / "plan.json").write_text(plan.to_json())
        print(f"prime-rl: starting run {run.run_dir}\n{plan.describe()}", flush=True)
        return run_plan(plan)


def _report(problems: list[Problem]) -> int:
    for problem in problems:
        print(f"prime-rl: pre-flight [{problem.check}]: {problem.message}", file=sys.stderr)
    return 2


def _dry_run(check: ProcessPlan) -> int:
    """prime-rl's own `rl … --dry-run`, then the resolved values it wrote."""
    print(f"prime-rl: validating with prime-rl's dry run ({check.processes[-1].argv[0]})", flush=True)
    code = run_plan(check)
    if code != 0:
        print(
            f"prime-rl: prime-rl rejected the config (exit {code}); the messages above name the key",
            file=sys.stderr,
        )
        return code
    print(summarize_resolved(check.run_dir / "configs"), flush=True)
    sbatch = check.run_dir / "rl.sbatch"
    if sbatch.exists():
        print(f"  SLURM job script written by prime-rl: {sbatch}", flush=True)
    return 0


def _validate_then_run(
    build: Callable[..., ProcessPlan],
    common: dict[str, Any],
    checkout: Checkout,
    run: RunPaths,
    launch: LaunchConfig,
    outcome: Callable[[int], str],
) -> int:
    """prime-rl's own dry run of the plan `build` makes (it validates every config), then, unless this is a
    dry run, the plan itself in the claimed run folder, closed by a line saying `outcome(code)`."""
    code = _dry_run(build(checkout, output_dir=run.launcher_dir / "dry-run", dry_run=True, **common))
    if code != 0 or launch.dry_run:
        return code
    plan = build(checkout, output_dir=run.output_dir, resume=launch.resume, **common)
    code = _run_claimed(plan, run, launch)
    print(f"prime-rl: {outcome(code)}. Make HF checkpoints with `prime-rl export {run.run_dir}`.", flush=True)
    return code


def _train_one_gpu(
    resolved: ResolvedConfig,
    run: RunPaths,
    checkout: Checkout,
    machine: Machine,
    *,
    inference_config: Path | None,
) -> int:
    """vLLM from configs/inference_gpu0.toml and `rl` sharing GPU 0 (the layout before scale-out)."""
    from dakota_rl.config import write_prime_rl_files

    config, launch = resolved.config, resolved.launch
    inference_path = Path(inference_config or DEFAULT_INFERENCE_CONFIG)
    inference = read_inference_config(inference_path)
    gpu = machine.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0].strip() or "0"
    problems = preflight(
        config,
        checkout,
        gpu_memory_utilization=inference.vllm.gpu_memory_utilization,
        dry_run=launch.dry_run,
        machine=machine,
        gpu=int(gpu) if gpu.isdigit() else 0,
    )
    if not launch.dry_run:
        problems += check_run_dir(run.run_dir, launch)
    if problems:
        return _report(problems)

    rl_configs = [*write_prime_rl_files(resolved, run.launcher_dir)]
    common = dict(
        rl_configs=tuple(rl_configs),
        inference_config=inference_path.absolute(),
        model=config.model.name,
        seq_len=config.seq_len or DEFAULT_SEQ_LEN,
        port=inference.server.port,
        run_name=run.name,
        launcher_dir=run.launcher_dir,
        path=os.environ.get("PATH", ""),
        gpu=gpu,
        host=inference.server.host,
    )

    def outcome(code: int) -> str:
        done = "finished" if code == 0 else f"stopped (exit {code})"
        return f"run {done}; logs in {run.run_dir}/logs, vLLM log {run.launcher_dir / 'inference.log'}"

    return _validate_then_run(build_plan, common, checkout, run, launch, outcome)


def slurm_overrides(config: RLKeys, checkout: Checkout) -> tuple[str, ...]:
    """`--slurm.*` flags our launcher adds unless the config sets them: the job runs in this prime-rl
    checkout, and reinstalls the workspace environments the config uses (with the workspace environments they
    depend on) after the template's `uv sync` (plan.slurm_env_install)."""
    written = config.slurm.model_fields_set if config.slurm is not None else set()
    flags: list[str] = []
    if "project_dir" not in written:
        root = check_script_path(checkout.root, "PRIME_RL_DIR (the job's project_dir)")
        flags += ["--slurm.project-dir", root]
    env_dirs = [env.path for env in with_workspace_dependencies(env_modules(config))]
    if "pre_run_command" not in written and env_dirs:
        flags += ["--slurm.pre-run-command", slurm_env_install(env_dirs, env_dependencies(env_dirs))]
    return tuple(flags)


def _train_upstream(
    resolved: ResolvedConfig, layout: Layout, run: RunPaths, checkout: Checkout, machine: Machine
) -> int:
    """`rl` alone: prime-rl starts vLLM, env servers, orchestrator and trainer itself, or submits to SLURM."""
    config, launch = resolved.config, resolved.launch
    problems = _upstream_problems(config, launch, layout, run, checkout, machine)
    if problems:
        return _report(problems)

    print(f"prime-rl: layout {layout.describe()}", flush=True)
    rl_configs = _write_rl_configs(resolved, layout, run)
    common = dict(
        layout=layout,
        rl_configs=tuple(rl_configs),
        run_name=run.name,
        launcher_dir=run.launcher_dir,
        path=os.environ.get("PATH", ""),
        visible_devices=machine.environ.get("CUDA_VISIBLE_DEVICES"),
        slurm_overrides=slurm_overrides(config, checkout) if layout.kind == "slurm" else (),
    )
    return _validate_then_run(
        build_upstream_plan, common, checkout, run, launch, lambda code: _upstream_outcome(code, layout, run)
    )


def _upstream_problems(
    config: RLKeys, launch: LaunchConfig, layout: Layout, run: RunPaths, checkout: Checkout, machine: Machine
) -> list[Problem]:
    """Preflight's findings, plus the run directory's (--resume / --clean) unless this is a dry run."""
    gmu = config.inference.vllm.gpu_memory_utilization if config.inference else VLLM_DEFAULT_UTILIZATION
    problems = preflight(
        config, checkout, gpu_memory_utilization=gmu, dry_run=launch.dry_run, machine=machine, layout=layout
    )
    if not launch.dry_run:
        problems += check_run_dir(run.run_dir, launch)
    return problems


def _write_rl_configs(resolved: ResolvedConfig, layout: Layout, run: RunPaths) -> list[Path]:
    """Write the `rl` config files into the launcher folder, plus `layout.toml` with what the layout adds
    (an empty [inference] when `[deployment]` asks for inference GPUs; the loopback host); their paths."""
    from dakota_rl.config import write_prime_rl_files

    rl_configs = [*write_prime_rl_files(resolved, run.launcher_dir)]
    added = layout_additions(resolved.config, layout)
    if added:
        (run.launcher_dir / "layout.toml").write_text(added)
        rl_configs.append(run.launcher_dir / "layout.toml")
    if layout.add_inference_table:
        print(
            "prime-rl: [deployment] asks for inference GPUs and the config has no [inference]: prime-rl "
            "starts vLLM with its defaults",
            flush=True,
        )
    return rl_configs


LOOPBACK = "127.0.0.1"


def layout_additions(config: RLKeys, layout: Layout) -> str:
    """TOML the launcher adds to a config for its layout (empty when none): an empty [inference] when
    `[deployment]` asks for inference GPUs, and on one machine `[inference.server] host = "127.0.0.1"` unless
    the config sets a host (prime-rl's default binds vLLM and its router, unauthenticated, to every
    interface). Multi-node SLURM keeps prime-rl's default: the trainer nodes reach vLLM over the network."""
    lines = []
    if layout.add_inference_table:
        lines += [
            "# Added by prime-rl train: [deployment] asks for inference GPUs, so prime-rl starts vLLM",
            "# with its defaults. Add your own [inference] table to tune it.",
            "[inference]",
        ]
    one_machine = layout.kind == "single-node" or (layout.kind == "slurm" and not layout.multi_node)
    starts_vllm = config.inference is not None or layout.add_inference_table
    if one_machine and starts_vllm and (config.inference is None or config.inference.server.host is None):
        lines += [
            "# Added by prime-rl train: vLLM and its router listen on loopback only (they have no key).",
            "[inference.server]",
            f'host = "{LOOPBACK}"',
        ]
    return "\n".join(lines) + "\n" if lines else ""


def _upstream_outcome(code: int, layout: Layout, run: RunPaths) -> str:
    """What became of the run, for the closing line."""
    if code != 0:
        return f"stopped (exit {code})"
    if layout.kind == "slurm":
        return f"job submitted; it writes {run.run_dir}/job_<id>.log (squeue shows it)"
    return f"run finished; logs in {run.run_dir}/logs"
