"""Parallel-corpus translation environment (verifiers v1): any language pair, chrF++ + orthography reward.

The verifiers glue (`taskset.py`) is imported on first use of an exported name, so the pure modules
(`orthography`, `corpus`, `rewards`, `probes`, `metrics`, `export_dakota`) load without importing verifiers.
"""

from typing import Any

__all__ = ["ParallelTranslationTaskset", "ParallelTranslationEnv"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from parallel_translation import taskset

        return getattr(taskset, name)
    raise AttributeError(f"module 'parallel_translation' has no attribute {name!r}")
