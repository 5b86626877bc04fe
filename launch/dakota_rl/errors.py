"""The two kinds of failure every library in the project raises; only the CLIs turn them into exit codes.

- `UserError`: bad input (a config key, a path, a flag). The CLI prints `prime-rl: error: <message>` on one
  line and exits 2. Messages say what to do instead and never carry a traceback.
- `RunFailed`: the input was fine but a run went wrong (a server, vf-eval or training failed). The CLI prints
  `prime-rl: failed: <message>` and exits 1; the message says where the full log is.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

USER_ERROR_EXIT = 2
RUN_FAILED_EXIT = 1


class UserError(ValueError):
    """A user mistake; one line, exit 2 (`dakota_rl.config.ConfigError` is this class)."""


class RunFailed(RuntimeError):
    """A server, vf-eval or training run failed; the message says where the full log is (exit 1)."""


def one_line(message: object) -> str:
    """The message on one line (newlines folded), as the CLIs print it."""
    return " ".join(str(message).split())


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose usage errors raise `UserError` (one line in the CLI) instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{self.prog}: {message} (see `{self.prog} --help`)")
