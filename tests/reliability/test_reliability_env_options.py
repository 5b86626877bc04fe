"""Bad taskset options stop the local backend before any work: exit 2 and one line naming the key.

| case | before | after |
|---|---|---|
| `familys = [...]`, `limt = 3` (typos) | silently ignored: trained on all 8,294 tasks | exit 2, names the key |
| task weights summing above 1 | traceback | exit 2, names `task` |
| `system_prompt` / `data_file` that do not exist | traceback | exit 2, names the key |
| filters selecting zero tasks | traceback after model load | exit 2 |
| `limit = "abc"`, `tier = "hard"` | traceback | exit 2, names the key |
| `reward_mode = "weird"` | traceback mid-training | exit 2, names `task.reward_mode` |
| a Latin-1 TOML file | UnicodeDecodeError traceback | exit 2: "not UTF-8" |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import one_error_line, prime_rl

HEAD = (
    '[[orchestrator.train.source]]\nname = "{env}"\n[orchestrator.train.source.env.taskset]\nid = "{env}"\n'
)
DAKOTA, LETTERS = "dakota_grammar_translation", "letter_counting"

CASES = [
    (DAKOTA, 'familys = ["morphology"]', "familys"),
    (DAKOTA, "limt = 3", "limt"),
    (DAKOTA, 'limit = "abc"', "limit"),
    (
        DAKOTA,
        "[orchestrator.train.source.env.taskset.task.weights]\ncharacter = 0.9\nmorphology = 0.9",
        "task",
    ),
    (DAKOTA, 'system_prompt = "no/such/prompt.txt"', "system_prompt"),
    (DAKOTA, 'data_file = "no/such/tasks.jsonl"', "data_file"),
    (DAKOTA, 'families = ["pattern"]\ndifficulties = ["advanced"]', "select zero tasks"),
    (LETTERS, 'tier = "hard"', "tier"),
    (LETTERS, "limt = 3", "limt"),
    (LETTERS, '[orchestrator.train.source.env.taskset.task]\nreward_mode = "weird"', "task.reward_mode"),
]


def train_dry_run(cfg: Path) -> subprocess.CompletedProcess:
    return prime_rl("train", "@", str(cfg), "--backend", "local", "--dry-run", timeout=600)


@pytest.mark.parametrize(("env", "body", "named"), CASES, ids=[c[2] + "-" + c[0][:6] for c in CASES])
def test_bad_taskset_option_is_one_line_naming_the_key(tmp_path, env, body, named):
    cfg = tmp_path / "run.toml"
    cfg.write_text(HEAD.format(env=env) + body + "\n")
    assert named in one_error_line(train_dry_run(cfg))


def test_latin1_toml_is_one_line(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_bytes("# r\xe9sum\xe9 of the run\nmax_steps = 1\n".encode("latin-1"))
    result = train_dry_run(cfg)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"prime-rl: error: {cfg}: not UTF-8 (byte 3): save it as UTF-8, as TOML requires"
    )


def test_good_options_still_pass(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text(HEAD.format(env=DAKOTA) + 'families = ["morphology"]\nlimit = 5\n')
    result = train_dry_run(cfg)
    assert result.returncode == 0, result.stderr[-2000:]
