"""Letter counting environment (verifiers v1): ten seeded tiers, frozen eval sets, partial or binary reward.

The verifiers glue (`taskset.py`) is imported on first use of an exported name, so the pure modules
(`generate`, `parser`, `rewards`, `curriculum`) load without importing verifiers.
"""

from typing import Any

__all__ = ["LetterCountingTaskset", "LetterCountingEnv"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from letter_counting import taskset

        return getattr(taskset, name)
    raise AttributeError(f"module 'letter_counting' has no attribute {name!r}")
