"""Imports flow one way: the environments never import the launcher (they are installed on their own, e.g.
into prime-rl's venv, where `dakota_rl` is absent)."""

from __future__ import annotations

import ast
from pathlib import Path

from dakota_rl.paths import REPO_ROOT


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports (absolute names; relative imports are left out)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def importers_of(files: list[Path], package: str) -> list[str]:
    return sorted(
        str(f.relative_to(REPO_ROOT))
        for f in files
        if any(m == package or m.startswith(f"{package}.") for m in imported_modules(f))
    )


def test_environments_do_not_import_the_launcher():
    files = sorted((REPO_ROOT / "environments").glob("*/*/**/*.py"))
    assert len(files) > 20
    assert importers_of(files, "dakota_rl") == []
