"""Children die with the parent: SIGTERM/SIGHUP act like Ctrl-C, and every child we start is tied to us.

- `handle_termination()` makes SIGTERM and SIGHUP raise KeyboardInterrupt, so the same `finally` blocks that
  stop a server on Ctrl-C also run when a scheduler, `kill` or a closed terminal ends the command.
- `child_options()` are the Popen options for a child: its own process group (so we can stop it and all of
  its own children with one `killpg`) and, on Linux, `PR_SET_PDEATHSIG` so the kernel sends it SIGTERM even
  if we die by SIGKILL and never run a `finally`.
- `stop_group(proc)` ends a child's whole group: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from typing import Any

PR_SET_PDEATHSIG = 1


def handle_termination() -> None:
    """SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread, like Ctrl-C."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: ask the kernel for SIGTERM when our parent exits."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def child_options() -> dict[str, Any]:
    """Popen keyword arguments: a new process group, plus PDEATHSIG where the platform has it."""
    options: dict[str, Any] = {"start_new_session": True}
    if sys.platform.startswith("linux"):
        options["preexec_fn"] = _die_with_parent
    return options


def stop_group(proc: subprocess.Popen, grace_s: float = 20) -> None:
    """SIGTERM the child's process group, wait up to `grace_s`, then SIGKILL it."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    _reap_group(proc.pid)


def _reap_group(pgid: int) -> None:
    """SIGKILL whatever is left in the group (grandchildren that ignored SIGTERM)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
