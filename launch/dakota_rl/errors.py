"""Failures the CLI reports as one line with exit code 1 (a run went wrong; user mistakes are ConfigError, exit 2)."""


class RunFailed(RuntimeError):
    """A server, vf-eval or training run failed; the message says where the full log is."""
