"""Dakota grammar and translation tasks from Riggs's grammar, with a compositional reward (verifiers v1).

`DakotaTaskset` and `DakotaEnv` load lazily, so the pure modules (`orthography`, `tasks`, `parser`,
`rewards`, `probes`) import without verifiers.
"""

from typing import Any

__all__ = ["DakotaTaskset", "DakotaEnv"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dakota_grammar_translation import taskset

        return getattr(taskset, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
