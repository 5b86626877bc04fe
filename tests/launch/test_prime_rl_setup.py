"""`prime-rl setup` against a local git repository standing in for GitHub (clone, pinned commit, submodules,
idempotence, refusals). `uv` steps are recorded, not run: they need prime-rl's CUDA wheels."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dakota_rl.backends.prime_rl.checkout import Checkout, PrimeRLError
from dakota_rl.backends.prime_rl.launcher import slurm_overrides
from dakota_rl.backends.prime_rl.setup import (
    SSH_TO_HTTPS,
    Command,
    env_dependencies,
    env_modules_of,
    git_config_env,
    inspect_checkout,
    plan_setup,
    setup,
    workspace_env_dirs,
)
from dakota_rl.config import RunConfig
from dakota_rl.paths import CONFIGS, REPO_ROOT
from dakota_rl.workspace import with_workspace_dependencies, workspace_envs

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}
SUB = "deps/pydantic-config"
# local file:// submodules are refused by default since git 2.38; GitHub's https ones are not
GIT_CONFIG = (*SSH_TO_HTTPS, ("protocol.file.allow", "always"))


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> tuple[Path, str, str]:
    """A repo with two commits (old, pinned) and a submodule, like prime-rl's deps/."""
    root = tmp_path_factory.mktemp("upstream")
    sub, repo = root / "sub", root / "prime-rl"
    for path in (sub, repo):
        path.mkdir()
        git(path, "init", "-q", "-b", "main")
    (sub / "README").write_text("pydantic-config\n")
    git(sub, "add", ".")
    git(sub, "commit", "-qm", "sub")
    (repo / "pyproject.toml").write_text('[project]\nname = "prime-rl"\nversion = "0.7.0"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "old")
    old = git(repo, "rev-parse", "HEAD")
    git(repo, "submodule", "add", "-q", str(sub), SUB)
    (repo / "pyproject.toml").write_text('[project]\nname = "prime-rl"\nversion = "0.8.0"\n')
    git(repo, "commit", "-qam", "pinned")
    return repo, old, git(repo, "rev-parse", "HEAD")


def make_envs(root: Path) -> tuple[Path, ...]:
    """Two small environment packages (importing the real ones costs ~30 s each on a loaded CI machine)."""
    dirs = []
    for name, deps in (
        ("env_a", '["verifiers>=0.4.0", "rapidfuzz>=3.6"]'),
        ("env_b", '["Verifiers==0.4.0"]'),
    ):
        (root / name / name).mkdir(parents=True, exist_ok=True)
        (root / name / name / "__init__.py").write_text("")
        (root / name / "pyproject.toml").write_text(f'[project]\nname = "{name}"\ndependencies = {deps}\n')
        dirs.append(root / name)
    return tuple(dirs)


class Runner:
    """Runs git for real; fakes uv: `uv sync` creates the venv's python/rl/inference, `uv pip install
    --no-deps -e DIR` puts DIR on that python's path (recorded in .venv/paths)."""

    def __init__(self) -> None:
        self.commands: list[Command] = []

    def __call__(self, command: Command) -> int:
        self.commands.append(command)
        if command.argv[0] == "git":
            env = {**os.environ, **GIT_ENV, **command.env}
            return subprocess.run(command.argv, cwd=command.cwd, env=env, capture_output=True).returncode
        if command.argv[:2] == ("uv", "sync"):
            venv = Path(command.env["UV_PROJECT_ENVIRONMENT"])
            (venv / "bin").mkdir(parents=True, exist_ok=True)
            (venv / "paths").write_text("")
            python = venv / "bin/python"
            python.write_text(f'#!/bin/sh\nPYTHONPATH="$(cat {venv}/paths)" exec "{sys.executable}" "$@"\n')
            python.chmod(0o755)
            for name in ("rl", "inference"):
                (venv / "bin" / name).write_text("#!/bin/sh\n")
        if command.argv[:3] == ("uv", "pip", "install") and "--no-deps" in command.argv:
            venv = Path(command.argv[command.argv.index("--python") + 1]).parents[1]
            dirs = [a for i, a in enumerate(command.argv) if command.argv[i - 1] == "-e"]
            (venv / "paths").write_text(os.pathsep.join(dirs))
        return 0


def run_setup(root: Path, upstream, runner: Runner, force: bool = False) -> int:
    repo, _, pinned = upstream
    return setup(
        root,
        force=force,
        url=str(repo),
        commit=pinned,
        submodules=(SUB,),
        env_dirs=make_envs(root.parent / "envs"),
        git_config=GIT_CONFIG,
        runner=runner,
    )


def test_fresh_setup_then_idempotent(tmp_path, upstream, capsys):
    root = tmp_path / "prime-rl"
    runner = Runner()
    assert run_setup(root, upstream, runner) == 0
    assert git(root, "rev-parse", "HEAD") == upstream[2]
    assert (root / SUB / "README").read_text() == "pydantic-config\n"
    assert (root / ".venv/bin/rl").exists()
    steps = [c.argv for c in runner.commands]
    assert steps[0][:3] == ("git", "clone", "--no-checkout")
    assert steps[1][-3:] == ("checkout", "--detach", upstream[2])
    assert steps[2][-4:] == ("update", "--init", "--", SUB)
    assert runner.commands[2].env["GIT_CONFIG_KEY_0"] == "url.https://github.com/.insteadOf"
    assert runner.commands[2].env["GIT_CONFIG_VALUE_0"] == "git@github.com:"
    assert steps[3] == ("uv", "sync", "--all-extras") and runner.commands[3].cwd == root
    deps_install, envs_install = steps[4], steps[5]
    assert deps_install[-1:] == ("rapidfuzz>=3.6",), "prime-rl's verifiers pin must be kept"
    assert "--no-deps" in envs_install and envs_install[-4:] == (
        "-e",
        str(tmp_path / "envs/env_a"),
        "-e",
        str(tmp_path / "envs/env_b"),
    )
    out = capsys.readouterr().out
    assert "import check: ok (env_a, env_b; verifiers" in out

    again = Runner()
    assert run_setup(root, upstream, again) == 0
    assert again.commands == [], "a second run must change nothing"
    out = capsys.readouterr().out
    assert out.count("skipped") == 5 and "already at" in out


def test_force_redoes_sync_and_envs_but_not_clone(tmp_path, upstream):
    root = tmp_path / "prime-rl"
    run_setup(root, upstream, Runner())
    (root / ".venv").rename(tmp_path / "old-venv")  # what `uv sync` would recreate
    runner = Runner()
    assert run_setup(root, upstream, runner, force=True) == 0
    assert [c.argv[1] if c.argv[0] == "uv" else c.argv[3] for c in runner.commands] == [
        "submodule",
        "sync",
        "pip",
        "pip",
    ]


def test_moves_an_old_checkout_to_the_pinned_commit(tmp_path, upstream):
    root = tmp_path / "prime-rl"
    run_setup(root, upstream, Runner())
    git(root, "checkout", "-q", upstream[1])
    runner = Runner()
    assert run_setup(root, upstream, runner) == 0
    assert git(root, "rev-parse", "HEAD") == upstream[2]
    assert runner.commands[0].argv[-3:] == ("fetch", "origin", upstream[2])


def test_refuses_dirty_checkout_at_another_commit(tmp_path, upstream):
    root = tmp_path / "prime-rl"
    run_setup(root, upstream, Runner())
    git(root, "checkout", "-q", upstream[1])
    (root / "pyproject.toml").write_text("local edit\n")
    with pytest.raises(PrimeRLError, match=r"has local changes .*\(setup never discards changes\)"):
        run_setup(root, upstream, Runner())
    assert (root / "pyproject.toml").read_text() == "local edit\n"


def test_refuses_a_non_git_directory(tmp_path, upstream):
    root = tmp_path / "something"
    root.mkdir()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(PrimeRLError, match="is not a git checkout"):
        run_setup(root, upstream, Runner())


def test_failed_step_stops_with_its_exit_code(tmp_path, upstream, capsys):
    def failing(command: Command) -> int:
        return 128 if command.argv[:2] == ("git", "clone") else 0

    assert run_setup(tmp_path / "p", upstream, failing) == 128
    assert "`clone` failed (exit 128)" in capsys.readouterr().err


def test_plan_for_empty_directory_and_dependencies(tmp_path):
    state = inspect_checkout(tmp_path / "absent", submodules=(SUB,), env_modules=["x"])
    steps = plan_setup(tmp_path / "absent", state, submodules=(SUB,))
    assert [s.name for s in steps] == ["clone", "checkout", "submodules", "uv sync", "environments"]
    assert all(s.skip is None for s in steps)
    deps = env_dependencies(workspace_env_dirs())
    assert deps and not any(d.lower().startswith("verifiers") for d in deps)
    assert git_config_env([("a", "b"), ("c", "d")]) == {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "a",
        "GIT_CONFIG_VALUE_0": "b",
        "GIT_CONFIG_KEY_1": "c",
        "GIT_CONFIG_VALUE_1": "d",
    }


def test_import_check_fails_when_the_environments_did_not_install(tmp_path, upstream, capsys):
    def no_env_install(command: Command) -> int:
        return 0 if "--no-deps" in command.argv else Runner()(command)

    assert run_setup(tmp_path / "p", upstream, no_env_install) == 1
    assert "environments do not import in prime-rl's venv: ModuleNotFoundError: No module named 'env_a'" in (
        capsys.readouterr().err
    )


def env_folders() -> list[Path]:
    """Every folder under environments/ with a pyproject.toml, found on disk (not through the workspace)."""
    return sorted(p.parent for p in (REPO_ROOT / "environments").glob("*/pyproject.toml"))


def test_setup_installs_every_workspace_environment(tmp_path):
    folders = env_folders()
    assert REPO_ROOT / "environments/parallel_translation" in folders
    state = inspect_checkout(tmp_path / "absent", submodules=(), env_modules=[])
    deps_install, envs_install = plan_setup(tmp_path / "absent", state, submodules=())[-1].commands
    editable = [a for i, a in enumerate(envs_install.argv) if envs_install.argv[i - 1] == "-e"]
    assert editable == [str(d) for d in folders]
    assert env_modules_of(folders) == [d.name for d in folders], "each env imports as its folder's name"
    names = {tomllib.loads((d / "pyproject.toml").read_text())["project"]["name"] for d in folders}
    assert "dakota-grammar-translation" in names
    assert not names & {a.split(">")[0].split("=")[0] for a in deps_install.argv}, (
        "a workspace environment is installed from its folder, never from an index"
    )


def test_workspace_members_follow_the_root_globs(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["envs/*"]\nexclude = ["envs/skip"]\n'
    )
    for name, deps in (("a_env", "[]"), ("b_env", '["a-env", "rapidfuzz"]'), ("c_env", "[]"), ("skip", "[]")):
        (tmp_path / "envs" / name).mkdir(parents=True)
        (tmp_path / "envs" / name / "pyproject.toml").write_text(
            f'[project]\nname = "{name.replace("_", "-")}"\ndependencies = {deps}\n'
        )
    (tmp_path / "envs" / "notes").mkdir()
    envs = workspace_envs(tmp_path)
    assert [e.module for e in envs] == ["a_env", "b_env", "c_env"]
    assert [e.module for e in with_workspace_dependencies(["b_env.taskset"], envs)] == ["a_env", "b_env"]
    assert with_workspace_dependencies(["elsewhere"], envs) == ()
    assert env_dependencies([e.path for e in envs]) == ["rapidfuzz"]


def test_slurm_job_reinstalls_parallel_translation_with_its_workspace_dependency(tmp_path):
    config = tomllib.loads((CONFIGS / "parallel_translation.toml").read_text())
    flags = slurm_overrides(RunConfig.model_validate({**config, "slurm": {}}), Checkout(tmp_path / "p"))
    deps, editable = flags[flags.index("--slurm.pre-run-command") + 1].split("--no-deps")
    assert editable.split() == [
        "-e",
        str(REPO_ROOT / "environments/dakota_grammar_translation"),
        "-e",
        str(REPO_ROOT / "environments/env_kit"),
        "-e",
        str(REPO_ROOT / "environments/parallel_translation"),
    ]
    assert "datasets>=4" in deps and "dakota-grammar-translation" not in deps and "verifiers" not in deps
    assert "env-kit" not in deps
