"""Where the prime-rl checkout lives, which commit it must be at, and how to run its executables."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dakota_rl.errors import UserError

PINNED_COMMIT = "559b44772e471d1538537b8805cc77f3824a5e64"
"""prime-rl main @ 559b447 (2026-08-21, version 0.8.0): the config schema our TOMLs are written for."""
PRIME_RL_URL = "https://github.com/PrimeIntellect-ai/prime-rl.git"
DEFAULT_DIR = Path("~/.cache/dakota-rl/prime-rl")


class PrimeRLError(UserError):
    """Something the user can fix (missing checkout, no GPU, bad run dir); the CLI prints it as one line."""


def default_prime_rl_dir(
    explicit: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The checkout location: `explicit` (--prime-rl-dir), else $PRIME_RL_DIR, else
    ~/.cache/dakota-rl/prime-rl."""
    environ = os.environ if environ is None else environ
    chosen = explicit or environ.get("PRIME_RL_DIR") or DEFAULT_DIR
    return Path(chosen).expanduser().absolute()


@dataclass(frozen=True)
class Checkout:
    """A prime-rl checkout and its virtual environment."""

    root: Path

    @property
    def venv(self) -> Path:
        return self.root / ".venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def bin_dir(self) -> Path:
        return self.venv / "bin"

    def executable(self, name: str) -> Path:
        """A console script of prime-rl's venv (`rl`, `inference`, ...)."""
        return self.bin_dir / name

    def run_env(self, path: str, **extra: str) -> dict[str, str]:
        """Variables set for prime-rl's processes (on top of the caller's environment): its venv first on PATH
        (`rl` starts its children by bare name), and UV_NO_SYNC=1 so a nested `uv run` cannot revert the
        environments `prime-rl setup` installed into the venv."""
        env = {
            "PATH": f"{self.bin_dir}{os.pathsep}{path}",
            "VIRTUAL_ENV": str(self.venv),
            "UV_NO_SYNC": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.update(extra)
        return env


def git_head(root: Path) -> str | None:
    """The commit `root` is checked out at, or None when it is not a git checkout."""
    if not (root / ".git").exists():
        return None
    proc = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None
