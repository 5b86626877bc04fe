"""Run folders: where a run lives, how we recognise one of ours, how `--clean` may delete it,
one run at a time.

- `run_name` / `run_dir`: the one place a run's name and folder come from (every command, both backends).
- `resolve_run_dir` keeps every run inside its output directory: a name is one plain, shell-safe path
  component (`safe_text.check_run_name`: no `..`, `.`, separators, whitespace, control or shell characters)
  and the resolved folder, symlinks followed, must sit inside.
- `RUN_MARKER` is written when a run starts (in the run folder, or in its `configs/` for the prime-rl
  backend, whose `rl` treats only `configs/` as launcher-written); `clean_run_dir` deletes only a folder that
  carries it.
- `run_lock` holds an exclusive `flock` on `<output_dir>/.<name>.lock` (beside the run, so `--clean` cannot
  delete it while held) for the life of the run: a second run with the same name stops with one line instead
  of interleaving metrics and checkpoints. A process may take it again while it holds it (demo → train).
- `claimed_run`: every command that writes a run calls it once its config has been checked: the folder checks,
  the lock, `--clean` of a marked run only, the marker.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from dakota_rl.errors import UserError as ConfigError
from dakota_rl.safe_text import check_run_name

if TYPE_CHECKING:
    from dakota_rl.config import RunConfig


class RunOptions(Protocol):
    """What a command does with an existing run folder: `config.LaunchConfig` (train, demo) or the
    experiment's own table; both typed fields of the command's config."""

    resume: bool
    clean: bool


DEFAULT_OUTPUT_DIR = "outputs"
DEFAULT_ENV = "dakota_grammar_translation"
"""The environment a config without `[[orchestrator.train.source]]` trains on (local backend)."""

RUN_MARKER = ".dakota-rl-run"
"""Written in a run folder when a run starts; `--clean` refuses a folder without it."""


class RunBusy(ConfigError):
    """Another process holds the run folder's lock."""


def run_name(config: RunConfig) -> str:
    """`[run] name` (`--run.name`), else the W&B run name, else `<env>--<model>` (lower case)."""
    wandb = config.monitors.wandb
    if config.run.name or (wandb and wandb.name):
        return str(config.run.name or wandb.name)
    sources = config.orchestrator.train.source
    env = sources[0].env.taskset.id if sources else DEFAULT_ENV
    return f"{env}--{config.model.name.rsplit('/', 1)[-1]}".lower()


def run_dir(config: RunConfig) -> Path:
    """`<output_dir>/<[run] dir, else the run name>`, checked by `resolve_run_dir` (default: outputs/)."""
    return resolve_run_dir(Path(config.output_dir or DEFAULT_OUTPUT_DIR), config.run.dir or run_name(config))


def resolve_run_dir(output_dir: Path, name: str) -> Path:
    """`output_dir / name`, refused unless `name` is one plain component that stays inside `output_dir`."""
    text = check_run_name(name)
    root = Path(output_dir).resolve()
    run_dir = Path(output_dir) / text
    resolved = run_dir.resolve()
    if resolved.parent != root:
        raise ConfigError(f"run folder {run_dir} resolves to {resolved}, outside the output directory {root}")
    return run_dir


MARKER_PLACES = ("", "configs")
"""Where a run's marker may sit, relative to the run folder."""


def is_our_run(run_dir: Path) -> bool:
    """True when `run_dir` is a real folder (not a symlink) that a run of ours marked."""
    return (
        run_dir.is_dir()
        and not run_dir.is_symlink()
        and any((run_dir / place / RUN_MARKER).is_file() for place in MARKER_PLACES)
    )


def mark_run(run_dir: Path, place: str = "") -> None:
    """Create `run_dir` and write the marker (in `run_dir/place`) that makes it deletable by `--clean`."""
    (run_dir / place).mkdir(parents=True, exist_ok=True)
    marker = run_dir / place / RUN_MARKER
    if not marker.exists():
        marker.write_text(
            json.dumps({"created": time.strftime("%Y-%m-%dT%H:%M:%S"), "pid": os.getpid()}) + "\n"
        )


def clean_run_dir(run_dir: Path) -> None:
    """Delete a previous run's folder; refuse anything that is not recognisably a run of ours."""
    if not run_dir.exists() and not run_dir.is_symlink():
        return
    if not is_our_run(run_dir):
        raise ConfigError(
            f"--clean refused: {run_dir} is not a dakota-rl run folder (no {RUN_MARKER}); "
            "delete it yourself or pick another --run-name"
        )
    shutil.rmtree(run_dir)


def prepare_run_dir(run_dir: Path, options: RunOptions) -> None:
    """Check the folder is usable for a new run, `--resume` or `--clean` (deleting nothing yet)."""
    resume, clean = options.resume, options.clean
    if resume and clean:
        raise ConfigError("--resume and --clean contradict each other: pick one")
    if run_dir.is_symlink():
        raise ConfigError(f"run folder {run_dir} is a symlink: refusing to use it")
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"run folder {run_dir} exists and is not a folder")
    busy = run_dir.exists() and any(p.name != RUN_MARKER for p in run_dir.iterdir())
    if busy and not (resume or clean):
        raise ConfigError(
            f"run directory {run_dir} is not empty: pass --resume to continue or --clean to overwrite"
        )
    if clean and busy and not is_our_run(run_dir):
        raise ConfigError(
            f"--clean refused: {run_dir} is not a dakota-rl run folder (no {RUN_MARKER}); "
            "delete it yourself or pick another --run-name"
        )


def lock_path(run_dir: Path) -> Path:
    """The lock file of a run: a hidden sibling of its folder."""
    return run_dir.parent / f".{run_dir.name}.lock"


_HELD: set[Path] = set()
"""Lock files this process holds (a nested `run_lock` on one of them is a no-op)."""


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock for `run_dir` until the block ends; RunBusy when another process holds it."""
    import fcntl

    run_dir.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(run_dir).absolute()
    if path in _HELD:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunBusy(
                f"run {run_dir} is in use by another process: wait for it or pick another --run-name"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        _HELD.add(path)
        yield
    finally:
        _HELD.discard(path)
        os.close(fd)


@contextmanager
def claimed_run(run_dir: Path, options: RunOptions) -> Iterator[Path]:
    """The run folder for a command whose config is already checked: folder checks, then the lock, then
    `--clean` (a marked run only), then the marker; held until the block ends."""
    prepare_run_dir(run_dir, options)
    with run_lock(run_dir):
        if options.clean:
            clean_run_dir(run_dir)
        mark_run(run_dir)
        yield run_dir
