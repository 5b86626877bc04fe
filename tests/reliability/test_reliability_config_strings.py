"""Config strings stay data: an id never runs as code, a taskset value never becomes a vf-eval flag.

| case | before | after |
|---|---|---|
| taskset id `os;open(...)` in prime-rl pre-flight | ran as Python (`python -c "import …"`) | imported by name, nothing runs |
| same id in the local backend / `prime-rl eval --env` | refused only because unknown | refused as not a package name (identifier), exit 2 |
| list value `["morphology", "--push", "--client.base-url", …]` | became flags after `--no-push` | data in `@ taskset.json`; safety flags last |
| taskset option key `x --push` | became a flag name | exit 2: not an identifier |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import prime_rl

from dakota_rl.config import ConfigError
from dakota_rl.envs import load_env
from dakota_rl.evaluate import EvalSettings, vf_eval_command

HOSTILE_ID = "os;open('PWNED','w').write('x')"
HOSTILE_LIST = ["morphology", "--push", "--client.base-url", "http://evil.example/v1"]
BASE_URL = "http://127.0.0.1:9/v1"


def test_preflight_imports_a_taskset_id_by_name_never_as_code(tmp_path, monkeypatch):
    """Passes once the pre-flight fix (prime-rl backend, separate change) is merged: names travel as argv."""
    from dakota_rl.backends.prime_rl.preflight import python_imports

    monkeypatch.chdir(tmp_path)
    error = python_imports(Path(sys.executable), [HOSTILE_ID])
    assert not (tmp_path / "PWNED").exists(), "the taskset id ran as Python code"
    assert error is not None


def test_local_backend_refuses_a_non_identifier_env_id(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        f'[[orchestrator.train.source]]\nname = "x"\n[orchestrator.train.source.env.taskset]\n'
        f'id = "{HOSTILE_ID}"\n'
    )
    result = prime_rl(
        "train",
        "@",
        str(cfg),
        "--backend",
        "local",
        "--dry-run",
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "unknown env id" in result.stderr and "Python package name" in result.stderr
    assert not (tmp_path / "PWNED").exists()


def test_eval_refuses_a_non_identifier_env_id(tmp_path):
    result = prime_rl(
        "eval",
        "smollm2-135m-instruct",
        "--env",
        HOSTILE_ID,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert "unknown env id" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "PWNED").exists()


def test_taskset_values_never_become_vf_eval_flags(tmp_path):
    from dataclasses import replace

    with pytest.raises(ConfigError, match="families.1"):  # the env's own config refuses it first
        load_env("dakota_grammar_translation", {"families": HOSTILE_LIST})
    env = replace(load_env("dakota_grammar_translation", {}), eval_options={"families": HOSTILE_LIST})
    cmd = vf_eval_command(env, "/models/m", BASE_URL, tmp_path / "ev", EvalSettings())
    assert "--push" not in cmd and "http://evil.example/v1" not in cmd
    assert cmd[-5:] == [
        "--client.base-url",
        BASE_URL,
        "--client.api-key-var",
        "DAKOTA_RL_LOCAL_KEY",
        "--no-push",
    ]
    assert [t for t in cmd if t.startswith("--client") or "push" in t] == [
        "--client.base-url",
        "--client.api-key-var",
        "--no-push",
    ]
    data = json.loads((tmp_path / "ev" / "taskset.json").read_text())
    assert data == {"env": {"taskset": {"families": HOSTILE_LIST}}}


def test_taskset_option_keys_must_be_identifiers(tmp_path):
    from dataclasses import replace

    env = replace(load_env("dakota_grammar_translation", {}), eval_options={"x --push": 1})
    with pytest.raises(ConfigError, match="taskset option 'x --push' is not a valid identifier"):
        vf_eval_command(env, "/models/m", BASE_URL, tmp_path, EvalSettings())
    with pytest.raises(ConfigError, match="local http://127.0.0.1:PORT"):
        vf_eval_command(
            load_env("dakota_grammar_translation", {}), "m", "http://evil:1/v1", tmp_path, EvalSettings()
        )


def test_real_vf_eval_resolves_our_safety_flags_and_the_options_as_data(tmp_path):
    """vf-eval's own dry run shows what it would do: never push, our server, the taskset options as given."""
    env = load_env("dakota_grammar_translation", {"families": ["morphology"], "difficulties": ["easy"]})
    out = tmp_path / "ev"
    cmd = vf_eval_command(env, "/models/step_2.x", BASE_URL, out, EvalSettings(num_examples=3))
    result = subprocess.run(
        [*cmd, "--dry-run=True"], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    resolved = json.loads(next(out.glob("*/configs/resolved/eval.json")).read_text())
    assert resolved.get("push") in (False, None)
    assert resolved["client"]["base_url"] == BASE_URL and resolved["model"] == "/models/step_2.x"
    taskset = resolved["env"]["taskset"]
    assert (taskset["families"], taskset["difficulties"], taskset["split"]) == (
        ["morphology"],
        ["easy"],
        "heldout",
    )
