"""The environments of the uv workspace (`[tool.uv.workspace] members` in the root pyproject.toml).

What `prime-rl setup` installs into prime-rl's venv and what a SLURM job reinstalls come from here, so a new
folder under environments/ with a pyproject.toml is picked up without a list to update.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from dakota_rl.paths import REPO_ROOT


@dataclass(frozen=True)
class WorkspaceEnv:
    """One workspace member: its folder, distribution name, import name and declared dependencies."""

    path: Path
    name: str
    """Canonical distribution name (`parallel-translation`)."""
    module: str
    """Import name (`parallel_translation`)."""
    dependencies: tuple[str, ...]


def read_env(path: Path) -> WorkspaceEnv:
    """The member in `path` from its pyproject.toml (the import name is hatch's first wheel package, else the
    distribution name with `-` read as `_`)."""
    data = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
    project = data["project"]
    name = canonicalize_name(project["name"])
    packages = data.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
    packages = packages.get("wheel", {}).get("packages", [])
    module = Path(packages[0]).name if packages else name.replace("-", "_")
    return WorkspaceEnv(path, name, module, tuple(project.get("dependencies", [])))


def workspace_envs(root: Path = REPO_ROOT) -> tuple[WorkspaceEnv, ...]:
    """Every member folder (with a pyproject.toml) the root's `[tool.uv.workspace]` globs match, sorted by
    path; none when the root has no workspace."""
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return ()
    workspace = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("uv", {})
    workspace = workspace.get("workspace", {})
    excluded = {p for pattern in workspace.get("exclude", []) for p in root.glob(pattern)}
    dirs = {
        p
        for pattern in workspace.get("members", [])
        for p in root.glob(pattern)
        if p not in excluded and (p / "pyproject.toml").is_file()
    }
    return tuple(read_env(p) for p in sorted(dirs))


def with_workspace_dependencies(
    modules: Iterable[str], envs: Sequence[WorkspaceEnv] | None = None
) -> tuple[WorkspaceEnv, ...]:
    """The members whose packages hold `modules` (`pkg` or `pkg.mod`), plus the members they depend on
    (transitively), in workspace order; modules of no member are left out."""
    envs = workspace_envs() if envs is None else envs
    by_name = {e.name: e for e in envs}
    packages = {m.split(".")[0] for m in modules}
    todo = [e for e in envs if e.module in packages]
    chosen: set[str] = set()
    while todo:
        env = todo.pop()
        if env.name in chosen:
            continue
        chosen.add(env.name)
        todo += [by_name[n] for n in map(_requirement_name, env.dependencies) if n in by_name]
    return tuple(e for e in envs if e.name in chosen)


def _requirement_name(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)
