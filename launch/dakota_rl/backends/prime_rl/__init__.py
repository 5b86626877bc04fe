"""The prime-rl backend: run prime-rl's own `rl` launcher on one GPU, shared with a vLLM server on GPU 0.

prime-rl is not a dependency of this project: it lives in its own checkout at a pinned commit with its own
`.venv` (Python 3.12, CUDA wheels), prepared by `prime-rl setup`. This package builds the commands, checks the
machine before launching, supervises the processes and turns prime-rl's weight broadcasts into HF checkpoints.

Entry points (the CLI imports them lazily): `available`, `train`, `setup`, `export`.
"""

from __future__ import annotations

from dakota_rl.backends.prime_rl.checkout import PINNED_COMMIT, PrimeRLError, default_prime_rl_dir
from dakota_rl.backends.prime_rl.export import export
from dakota_rl.backends.prime_rl.launcher import train
from dakota_rl.backends.prime_rl.preflight import available
from dakota_rl.backends.prime_rl.setup import setup

__all__ = ["PINNED_COMMIT", "PrimeRLError", "available", "default_prime_rl_dir", "export", "setup", "train"]
