"""Imports flow one way: the environments never import the launcher (they are installed on their own, e.g.
into prime-rl's venv, where `dakota_rl` is absent), and no backend names an environment (an env reaches a
backend through its EnvSpec)."""

from __future__ import annotations

import ast
from pathlib import Path

from dakota_rl.paths import REPO_ROOT
from dakota_rl.workspace import workspace_envs


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


def names_of(path: Path, env: str) -> list[str]:
    """Where a file names `env` as code would: a module path (`importlib.import_module("env.mod")`) or a
    comparison with its id (`env.id != "env"`). A default id (a plain string) is data, not a dependency."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    compared = [
        c.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        for c in (node.left, *node.comparators)
        if isinstance(c, ast.Constant)
    ]
    return [s for s in strings if s.startswith(f"{env}.")] + [c for c in compared if c == env]


def test_no_backend_names_an_environment():
    envs = [env.module for env in workspace_envs()]
    assert "letter_counting" in envs
    files = sorted((REPO_ROOT / "launch/dakota_rl/backends").rglob("*.py"))
    for env in envs:
        assert importers_of(files, env) == [], env
        assert {str(f.relative_to(REPO_ROOT)): names_of(f, env) for f in files if names_of(f, env)} == {}

