"""Run folders: where a run lives, how we recognise one of ours, how `--clean` may delete it,
one run at a time.

- `resolve_run_dir` keeps every run inside its output directory: a name is one plain path component
  (no `..`, `.`, absolute paths or separators) and the resolved folder, symlinks followed, must sit inside.
- `RUN_MARKER` is written when a run starts; `clean_run_dir` deletes only a folder that carries it.
- `run_lock` holds an exclusive `flock` on `<output_dir>/.<name>.lock` (beside the run, so `--clean` cannot
  delete it while held) for the life of the run: a second run with the same name stops with one line instead
  of interleaving metrics and checkpoints.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dakota_rl.config import ConfigError

RUN_MARKER = ".dakota-rl-run"
"""Written in a run folder when a run starts; `--clean` refuses a folder without it."""


class RunBusy(ConfigError):
    """Another process holds the run folder's lock."""


def resolve_run_dir(output_dir: Path, name: str) -> Path:
    """`output_dir / name`, refused unless `name` is one plain component that stays inside `output_dir`."""
    text = str(name)
    if not text.strip() or text in (".", "..") or "/" in text or "\\" in text or "\x00" in text:
        raise ConfigError(
            f"run name {text!r} must be a plain folder name (no '/', '..', '.' or absolute path)"
        )
    root = Path(output_dir).resolve()
    run_dir = Path(output_dir) / text
    resolved = run_dir.resolve()
    if resolved.parent != root:
        raise ConfigError(f"run folder {run_dir} resolves to {resolved}, outside the output directory {root}")
    return run_dir


def is_our_run(run_dir: Path) -> bool:
    """True when `run_dir` is a real folder (not a symlink) that a run of ours marked."""
    return run_dir.is_dir() and not run_dir.is_symlink() and (run_dir / RUN_MARKER).is_file()


def mark_run(run_dir: Path) -> None:
    """Create `run_dir` and write the marker that makes it deletable by `--clean`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    marker = run_dir / RUN_MARKER
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


def prepare_run_dir(run_dir: Path, *, resume: bool, clean: bool) -> None:
    """Check the folder is usable for a new run, `--resume` or `--clean` (deleting nothing yet)."""
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


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock for `run_dir` until the block ends; RunBusy when another process holds it."""
    import fcntl

    run_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(run_dir), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunBusy(
                f"run {run_dir} is in use by another process: wait for it or pick another --run-name"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
