"""`prime-rl setup`: a prime-rl checkout at the pinned commit with our environments installed in its venv.

Steps, each skipped when already done (so running it twice does nothing the second time):
  1. clone https://github.com/PrimeIntellect-ai/prime-rl (if the directory is absent or empty);
  2. check out the pinned commit (refuses when the checkout has local changes: nothing is ever discarded);
  3. submodules deps/{verifiers,renderers,prime-envs,pydantic-config}, with the git@github.com: → https
     rewrite (three are registered with SSH URLs);
  4. `uv sync --all-extras` (FA3 for the trainer, vllm-router) into `<checkout>/.venv`;
  5. our environments (every member of the uv workspace, `dakota_rl.workspace`): their dependencies except
     verifiers and each other, then the packages themselves with `--no-deps`, so prime-rl's own verifiers (its
     submodule, 0.3.1.dev62) is kept;
  6. an import check of the environments and verifiers in that venv.
`--force` redoes steps 3-6 even when they look done.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dakota_rl.backends.prime_rl.checkout import (
    PINNED_COMMIT,
    PRIME_RL_URL,
    Checkout,
    PrimeRLError,
    default_prime_rl_dir,
)
from dakota_rl.workspace import read_env, workspace_envs

SUBMODULES = ("deps/verifiers", "deps/renderers", "deps/prime-envs", "deps/pydantic-config")
SSH_TO_HTTPS = (("url.https://github.com/.insteadOf", "git@github.com:"),)
KEPT_PIN = "verifiers"
"""The one dependency of our environments that prime-rl's venv already pins (to its submodule)."""


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    """Set on top of the caller's environment."""

    def __str__(self) -> str:
        prefix = " ".join(f"{k}={v}" for k, v in self.env.items())
        return f"{prefix + ' ' if prefix else ''}{' '.join(self.argv)}"


@dataclass(frozen=True)
class Step:
    name: str
    commands: tuple[Command, ...] = ()
    skip: str | None = None
    """Why the step is not needed (None: run its commands)."""


@dataclass(frozen=True)
class CheckoutState:
    """What is already in place at the checkout location."""

    exists: bool
    empty: bool
    is_git: bool
    head: str | None
    dirty: bool
    submodules_ready: bool
    venv_ready: bool
    envs_ready: bool


def git_config_env(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Git config given through the environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n), not written to any file."""
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)


def inspect_checkout(root: Path, *, submodules: Sequence[str], env_modules: Sequence[str]) -> CheckoutState:
    """Look at `root` without changing anything."""
    exists = root.exists()
    empty = not exists or (root.is_dir() and not any(root.iterdir()))
    is_git = (root / ".git").exists()
    head = dirty = None
    submodules_ready = venv_ready = envs_ready = False
    if is_git:
        proc = _git(root, "rev-parse", "HEAD")
        head = proc.stdout.strip() if proc.returncode == 0 else None
        dirty = bool(
            _git(root, "status", "--porcelain", "--untracked-files=no", "--ignore-submodules").stdout.strip()
        )
        status = (
            _git(root, "submodule", "status", "--", *submodules).stdout.splitlines() if submodules else []
        )
        submodules_ready = len(status) == len(submodules) and all(line.startswith(" ") for line in status)
        checkout = Checkout(root)
        venv_ready = checkout.python.exists() and checkout.executable("rl").exists()
        if venv_ready and env_modules:
            code = "; ".join(f"import {m}" for m in env_modules)
            envs_ready = (
                subprocess.run([str(checkout.python), "-c", code], capture_output=True).returncode == 0
            )
    return CheckoutState(exists, empty, is_git, head, bool(dirty), submodules_ready, venv_ready, envs_ready)


def workspace_env_dirs() -> tuple[Path, ...]:
    """The folders of the workspace's environments: what setup installs unless told otherwise."""
    return tuple(env.path for env in workspace_envs())


def env_dependencies(env_dirs: Sequence[Path]) -> list[str]:
    """The environments' declared dependencies minus verifiers (prime-rl's venv keeps its own) and minus the
    environments themselves (installed from their folders, not from an index)."""
    envs = [read_env(d) for d in env_dirs]
    local = {KEPT_PIN, *(env.name for env in envs)}
    deps: list[str] = []
    for env in envs:
        for req in env.dependencies:
            if canonicalize_name(Requirement(req).name) not in local and req not in deps:
                deps.append(req)
    return deps


def env_modules_of(env_dirs: Sequence[Path]) -> list[str]:
    """The import names of the environments in `env_dirs`."""
    return [read_env(d).module for d in env_dirs]


def plan_setup(
    root: Path,
    state: CheckoutState,
    *,
    force: bool = False,
    url: str = PRIME_RL_URL,
    commit: str = PINNED_COMMIT,
    submodules: Sequence[str] = SUBMODULES,
    env_dirs: Sequence[Path] | None = None,
    git_config: Sequence[tuple[str, str]] = SSH_TO_HTTPS,
) -> list[Step]:
    """The steps `setup` takes from `state` (pure; `env_dirs` defaults to the workspace's environments).
    Raises PrimeRLError when it must not touch `root`."""
    env_dirs = workspace_env_dirs() if env_dirs is None else env_dirs
    _refuse_unsafe_root(root, state, commit)
    checkout = Checkout(root)
    redo = force or state.head != commit
    init_submodules = bool(submodules) and (redo or not state.submodules_ready)
    sync_venv = redo or not state.venv_ready
    install_envs = sync_venv or not state.envs_ready  # a re-synced venv loses the environments
    return [
        _clone_step(root, state, url),
        _checkout_step(root, state, commit),
        _submodules_step(root, init_submodules, submodules, git_config),
        _uv_sync_step(checkout, sync_venv),
        _environments_step(checkout, install_envs, env_dirs),
    ]


def _refuse_unsafe_root(root: Path, state: CheckoutState, commit: str) -> None:
    """PrimeRLError for a non-empty folder that is not a git checkout, or one with local changes to move."""
    if state.exists and not state.empty and not state.is_git:
        raise PrimeRLError(
            f"{root} exists and is not a git checkout: choose an empty --prime-rl-dir (or set PRIME_RL_DIR)"
        )
    if state.is_git and state.head != commit and state.dirty:
        raise PrimeRLError(
            f"{root} has local changes and is at {str(state.head)[:9]}, not {commit[:9]}: "
            "commit or stash them first (setup never discards changes)"
        )


def _clone_step(root: Path, state: CheckoutState, url: str) -> Step:
    if state.is_git:
        return Step("clone", skip=f"{root} is already a git checkout")
    return Step("clone", (Command(("git", "clone", "--no-checkout", url, str(root))),))


def _checkout_step(root: Path, state: CheckoutState, commit: str) -> Step:
    """Detach at `commit` (fetching it first in an existing checkout), unless already there."""
    if state.head == commit:
        return Step("checkout", skip=f"already at {commit[:9]}")
    fetch = (Command(("git", "-C", str(root), "fetch", "origin", commit)),) if state.is_git else ()
    return Step("checkout", (*fetch, Command(("git", "-C", str(root), "checkout", "--detach", commit))))


def _submodules_step(
    root: Path, run: bool, submodules: Sequence[str], git_config: Sequence[tuple[str, str]]
) -> Step:
    if not run:
        return Step("submodules", skip="initialised at the pinned commits")
    argv = ("git", "-C", str(root), "submodule", "update", "--init", "--", *submodules)
    return Step("submodules", (Command(argv, env=git_config_env(git_config)),))


def _uv_sync_step(checkout: Checkout, run: bool) -> Step:
    if not run:
        return Step("uv sync", skip=f"{checkout.venv} has rl and inference")
    env = {"UV_PROJECT_ENVIRONMENT": str(checkout.venv)}
    return Step("uv sync", (Command(("uv", "sync", "--all-extras"), cwd=checkout.root, env=env),))


def _environments_step(checkout: Checkout, run: bool, env_dirs: Sequence[Path]) -> Step:
    """Install the environments' dependencies, then the environments editable, into prime-rl's venv."""
    if not run:
        return Step("environments", skip="already importable in prime-rl's venv")
    pip = ("uv", "pip", "install", "--python", str(checkout.python))
    deps = env_dependencies(env_dirs)
    commands = [Command((*pip, *deps))] if deps else []
    editable = [arg for d in env_dirs for arg in ("-e", str(d))]
    commands.append(Command((*pip, "--no-deps", *editable)))
    return Step("environments", tuple(commands))


def run_command(command: Command) -> int:
    """Run one command with its output shown; its exit code."""
    env = {**os.environ, **command.env}
    return subprocess.run(command.argv, cwd=command.cwd, env=env).returncode


def import_report(python: Path, modules: Sequence[str]) -> tuple[bool, str]:
    """Import the environments and verifiers in prime-rl's venv; (ok, what it printed)."""
    code = (
        "; ".join(f"import {m}" for m in modules)
        + "; import verifiers; print('verifiers', verifiers.__version__)"
    )
    try:
        proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    except OSError as err:
        return False, str(err)
    text = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0, text.splitlines()[-1] if text else ""


def vf_eval_entry(python: Path) -> str:
    """The `vf-eval` console script's target in a venv ("" when none)."""
    code = (
        "from importlib.metadata import entry_points; "
        "print(*[e.value for e in entry_points(group='console_scripts', name='vf-eval')][:1])"
    )
    try:
        proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    except OSError:
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def legacy_vf_eval_note(entry: str) -> str | None:
    """What to run instead when a venv's `vf-eval` is verifiers' legacy v0 evaluator (v1's lives in
    verifiers.v1)."""
    if not entry or entry.startswith("verifiers.v1."):
        return None
    return (
        f"note: in prime-rl's venv `vf-eval` is verifiers' legacy v0 evaluator ({entry}), which cannot run "
        "our v1 environments: evaluate with this project's `vf-eval` (.venv, verifiers 0.4.0) or `prime-rl "
        "eval CKPT`, or inside prime-rl's venv with its v1 CLI `uv run eval dakota_grammar_translation -m "
        "...`"
    )


def setup(
    prime_rl_dir: Path | str | None = None,
    *,
    force: bool = False,
    url: str = PRIME_RL_URL,
    commit: str = PINNED_COMMIT,
    submodules: Sequence[str] = SUBMODULES,
    env_dirs: Sequence[Path] | None = None,
    git_config: Sequence[tuple[str, str]] = SSH_TO_HTTPS,
    runner: Callable[[Command], int] = run_command,
) -> int:
    """Prepare (or verify) the checkout; prints each step as done or skipped. Returns 0 when ready.
    `env_dirs` defaults to the workspace's environments."""
    root = default_prime_rl_dir(prime_rl_dir)
    env_dirs = workspace_env_dirs() if env_dirs is None else env_dirs
    modules = env_modules_of(env_dirs)
    state = inspect_checkout(root, submodules=submodules, env_modules=modules)
    steps = plan_setup(
        root,
        state,
        force=force,
        url=url,
        commit=commit,
        submodules=submodules,
        env_dirs=env_dirs,
        git_config=git_config,
    )
    print(f"prime-rl setup: {root} at {commit[:9]}")
    for step in steps:
        if step.skip:
            print(f"  {step.name}: skipped ({step.skip})")
            continue
        for command in step.commands:
            print(f"  {step.name}: $ {command}", flush=True)
            code = runner(command)
            if code != 0:
                print(
                    f"prime-rl setup: `{step.name}` failed (exit {code}); fix the cause above and run "
                    "`prime-rl setup` again",
                    file=sys.stderr,
                )
                return code
        print(f"  {step.name}: done")
    ok, report = import_report(Checkout(root).python, modules)
    if not ok:
        print(f"prime-rl setup: environments do not import in prime-rl's venv: {report}", file=sys.stderr)
        return 1
    print(f"  import check: ok ({', '.join(modules)}; {report})")
    if note := legacy_vf_eval_note(vf_eval_entry(Checkout(root).python)):
        print(f"  {note}")
    print("prime-rl setup: ready. Next: prime-rl train @ configs/debug_gpu.toml --dry-run")
    return 0
