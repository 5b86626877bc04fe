"""Strings that reach prime-rl's SLURM job script are checked where the config is parsed: no config value can
add a line to the script, and no path or name in it is read as shell.

The job script is rendered here from a copy of upstream's own template (`tests/upstream/`, prime-rl @ 559b447,
Apache-2.0, as `rl` renders it: jinja2, no autoescape).

| case | before | after |
|---|---|---|
| `[slurm] job_name = "dakota\\ntouch X"` (also `time`, `account`, `nodelist`, `exclude`, `partition`, `pre_run_command`) | dry run exit 0; `touch X` a line of `rl.sbatch` | refused where the config is parsed: one line, exit 2 |
| `[slurm] project_dir = "/x; touch X"` or with a space | `export PROJECT_DIR=/x; touch X` ran on the node | refused: a path the script holds unquoted |
| `--output-dir "out dir"` with `[slurm]` | `uv run rl @ …/out dir/…` split in two; the job failed on the node | exit 2 before anything runs |
| `PRIME_RL_DIR` with shell characters, with `[slurm]` | rendered into `export PROJECT_DIR=…` | refused |
| `[[orchestrator.train.source]] name = "x;touch X"`, `[inference.router] policy = 'x"; touch X; "'` (multi-node template: `env-server @ …/{{ name }}.json`, `"{{ router.policy }}"`) | rendered into the job script | refused where the config is parsed |
| random config values (control, quote, `$()`, separators) | — | any value the schema accepts renders to the same lines; paths and names stay one shell word |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import random
import string
import subprocess
from pathlib import Path

import jinja2
import pytest
from conftest import prime_rl

from dakota_rl.backends.prime_rl.checkout import Checkout
from dakota_rl.backends.prime_rl.launcher import RunPaths, slurm_overrides
from dakota_rl.config import ConfigError, load_config
from dakota_rl.errors import UserError
from dakota_rl.paths import REPO_ROOT
from dakota_rl.schema import RunKeys, SlurmKeys

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "upstream"
SLURM_CONFIG = REPO_ROOT / "configs" / "dakota_400_slurm.toml"
STRINGS = ("job_name", "partition", "nodelist", "exclude", "account", "time", "pre_run_command")
PATHS = ("project_dir", "template_path")
POOL = string.printable + "\x00\x1b\x7f\x85\u2028\u2029\u200b\u202eäŋ"


def render(slurm: SlurmKeys, output_dir: Path) -> str:
    """The single-node `rl.sbatch` as prime-rl @ 559b447 writes it (entrypoints/rl.py write_slurm_script)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), keep_trailing_newline=True)
    variables = {k: getattr(slurm, k) for k in (*STRINGS, "project_dir", "cleanup_grace_period", "shared_fs")}
    return env.get_template("single_node_rl.sbatch.j2").render(
        **variables, config_path=output_dir / "configs" / "rl.json", output_dir=output_dir, gpus_per_node=8
    )


def shell_words(line: str) -> list[str]:
    """What bash makes of `line`'s words (after its first token), expansions included, without running it."""
    script = f'set -- {line.split(" ", 1)[1]}; printf "%s\\0" "$@"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=10)
    return out.stdout.split("\0")[:-1]


@pytest.mark.parametrize("key", STRINGS + PATHS)
@pytest.mark.parametrize("value", ["dakota\ntouch X", "a\rb", "a\x1b[2Jb", "a\u2028b", "a\x00b"])
def test_control_characters_in_any_slurm_string_are_refused(key, value):
    with pytest.raises(ConfigError, match=rf"slurm\.{key}"):
        load_config(["@", str(SLURM_CONFIG), f"--slurm.{key.replace('_', '-')}", value])


@pytest.mark.parametrize("value", ["/x; touch X", "/shared/prime rl", "/x/$(touch X)", "/x/`id`", "~/x|y"])
def test_shell_characters_in_slurm_paths_are_refused(value):
    with pytest.raises(ConfigError, match="slurm.project_dir"):
        load_config(["@", str(SLURM_CONFIG), "--slurm.project-dir", value])


@pytest.mark.parametrize(
    "override",
    [
        ["--orchestrator.train.source", '[{"name": "x;touch X", "env": {"taskset": {"id": "x"}}}]'],
        ["--inference.router.policy", 'x"; touch X; "'],
    ],
)
def test_names_the_multi_node_template_renders_are_shell_safe(override):
    with pytest.raises(ConfigError, match="source.0..name|router"):
        load_config(["@", str(SLURM_CONFIG), *override])


def test_hostile_job_name_is_one_line_exit_2_and_writes_nothing(tmp_path):
    result = prime_rl(
        "train", "@", str(SLURM_CONFIG), "--slurm.job-name", "dakota\ntouch X", "--dry-run",
        "--output-dir", str(tmp_path / "o"), timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "slurm.job_name" in result.stderr and not (tmp_path / "o").exists()


@pytest.mark.parametrize("out", ["out dir", "out$(touch X)", "o;x", "o%j"])
def test_output_folder_rendered_into_the_job_script_is_checked(tmp_path, out):
    config = load_config(["@", str(SLURM_CONFIG), "--output-dir", str(tmp_path / out)]).config
    with pytest.raises(UserError, match="SLURM job script"):
        RunPaths.of(config)
    one_node = config.model_copy(update={"slurm": None})
    assert RunPaths.of(one_node).output_dir == (tmp_path / out).absolute()


def test_prime_rl_dir_is_checked_when_it_becomes_the_jobs_project_dir(tmp_path):
    config = load_config(["@", str(SLURM_CONFIG)]).config
    with pytest.raises(UserError, match="PRIME_RL_DIR"):
        slurm_overrides(config, Checkout(tmp_path / "prime rl$(id)"))
    assert slurm_overrides(config, Checkout(tmp_path / "prime-rl"))[:2] == (
        "--slurm.project-dir",
        str(tmp_path / "prime-rl"),
    )


def accepted(key: str, value: str) -> SlurmKeys | None:
    try:
        return SlurmKeys.model_validate({key: value})
    except ValueError:
        return None


def test_no_accepted_config_value_adds_a_line_or_a_shell_word(tmp_path):
    """Random values for every [slurm] string, the run name and the output folder: whatever the checks
    accept renders to exactly the lines of a plain value, and the paths stay one literal shell word."""
    rng = random.Random(559)
    plain_out = tmp_path / "out"
    kept = 0
    for _ in range(300):
        key = rng.choice(STRINGS + PATHS)
        value = "".join(rng.choice(POOL) for _ in range(rng.randint(1, 12)))
        value = "/" + value if key in PATHS else value
        slurm = accepted(key, value)
        if slurm is None:
            assert any(not (c.isalnum() or c in "._-+@,=:/") for c in value) or key not in PATHS
            continue
        kept += 1
        baseline = render(SlurmKeys.model_validate({key: "/x" if key in PATHS else "x"}), plain_out)
        script = render(slurm, plain_out)
        assert script.count("\n") == baseline.count("\n") and "\r" not in script, (key, value)
        export = next(line for line in script.splitlines() if line.startswith("export PROJECT_DIR="))
        assert shell_words("x " + export.split("=", 1)[1]) == [str(slurm.project_dir)]
    assert kept > 100, "the fuzz should exercise accepted values too"
    config = load_config(["@", str(SLURM_CONFIG)]).config
    names = 0
    for _ in range(600):
        name = "".join(rng.choice(POOL) for _ in range(rng.randint(1, 4)))
        out = tmp_path / "".join(rng.choice(POOL) for _ in range(rng.randint(1, 3)))
        try:
            run = RunPaths.of(config.model_copy(update={"output_dir": str(out), "run": RunKeys(name=name)}))
        except (UserError, ValueError, OSError):
            continue
        names += 1
        script = render(SlurmKeys(), run.run_dir)
        assert script.count("\n") == render(SlurmKeys(), plain_out).count("\n"), (name, out)
        launch = next(line for line in script.splitlines() if line.startswith("uv run rl @ "))
        config_path = str(run.run_dir / "configs" / "rl.json")
        assert shell_words("x " + launch.removeprefix("uv run rl @ ")) == [config_path]
    assert names > 20, "the fuzz should exercise accepted names too"
