"""glibc malloc settings for CPU training: let the process reuse the memory it frees.

Every training step on CPU allocates and frees the same large buffers (activations, logits, gradients). With
glibc's defaults, big blocks come from fresh `mmap` pages and freed heap above the trim threshold goes back to
the kernel, so each step page-faults again for memory it has just released: in the main job about a sixth of
all CPU time was spent in the kernel. Fixed thresholds keep that memory in the process. glibc reads them only
at process start (`GLIBC_TUNABLES`), so the `prime-rl` command (and `python -m dakota_rl.bench_train_steps`)
re-executes itself once with them, keeping its PID. Set `GLIBC_TUNABLES` yourself (even to an empty string) to
opt out; `GLIBC_TUNABLES= python -m dakota_rl.bench_train_steps --efficiency` against the default measures the
difference.

The re-exec happens only for the program it was asked for (`entry`: the `prime-rl` console script, or the
`python -m` module), never for a script that imports and calls `main()` (it would run twice) or a script read
from stdin (the re-exec would read an empty stdin), and at most once (`REEXEC_GUARD`), so a system that strips
`GLIBC_TUNABLES` from a new process (glibc ≥ 2.39 for setuid/setcap programs) cannot make it loop.
"""

from __future__ import annotations

import os
import platform
import sys

TUNABLES = "glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=4294967296"
"""4 GiB thresholds: blocks are served from and returned to the process's own heap."""


def wants_tunables(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True on Linux with glibc when the user has not set GLIBC_TUNABLES."""
    return sys.platform == "linux" and platform.libc_ver()[0] == "glibc" and "GLIBC_TUNABLES" not in environ


REEXEC_GUARD = "DAKOTA_RL_MALLOC_REEXEC"
"""Set in the re-executed process: it never re-executes again."""


def is_entry(entry: str | None) -> bool:
    """True when this process is running `entry`: a console script's name (`prime-rl`) or a module run with
    `python -m` (`dakota_rl.bench_train_steps`); None accepts any program run from a file."""
    argv0 = sys.argv[0] if sys.argv else ""
    if not argv0 or argv0 in ("-", "-c"):
        return False
    if entry is None:
        return True
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return os.path.basename(argv0) == entry or getattr(main_spec, "name", None) == entry


def reexec_with_tunables(entry: str | None = None) -> None:
    """Replace this process with the same command under `TUNABLES` (same PID); return when not needed."""
    if not wants_tunables() or os.environ.get(REEXEC_GUARD) or not getattr(sys, "orig_argv", None):
        return
    if not is_entry(entry):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, {**os.environ, "GLIBC_TUNABLES": TUNABLES, REEXEC_GUARD: "1"})
