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


def import_graph(package_dir: Path, package: str) -> dict[str, set[str]]:
    """Module → the package's modules it imports (at the top or inside a function)."""
    modules = {f"{package}.{f.stem}": f for f in package_dir.glob("*.py") if f.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as the path that closes it (depth-first search)."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return found


def test_interp_has_no_import_circle():
    graph = import_graph(REPO_ROOT / "interp/dakota_interp", "dakota_interp")
    assert "dakota_interp.study" in graph["dakota_interp.cli"], "the graph sees imports inside functions"
    assert cycles(graph) == []
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


CONFIG_CORE = ("config.py", "schema.py", "runs.py", "safe_text.py", "errors.py")
"""The typed config and run folders every backend reads: they import no backend (no arrow back up)."""


def test_config_core_imports_no_backend():
    files = [REPO_ROOT / "launch/dakota_rl" / name for name in CONFIG_CORE]
    assert all(f.is_file() for f in files)
    assert importers_of(files, "dakota_rl.backends") == []
    assert importers_of([REPO_ROOT / "launch/dakota_rl/cli.py"], "dakota_rl.backends"), "the check sees one"
