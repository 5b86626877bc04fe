"""The eval summary and report: components, exact/format/truncation rates, pass@k, groups, two-way tables."""

from __future__ import annotations

import json

import pytest

from dakota_rl.envs import load_env
from dakota_rl.evaluate import EvalFailed, Rollout, check_episodes, summarize
from dakota_rl.report import markdown, write_report


@pytest.fixture(scope="module")
def env():
    return load_env("dakota_grammar_translation")


def rollout(env, task, text, truncated=False):
    scores = env.score(text, task, truncated)
    return Rollout(
        task_id=task["id"],
        groups={k: task[k] for k in env.group_keys},
        completion=text,
        truncated=truncated,
        scores=scores,
        components=env.component_values(scores),
        total=float(scores.total),
        recorded_total=float(scores.total),
    )


def test_summary_counts_exact_format_truncation_and_pass_at_k(env):
    a, b = env.load_tasks("heldout")[:2]
    rows = [
        rollout(env, a, f"<answer>{a['answer']}</answer>"),
        rollout(env, a, "no tags here"),
        rollout(env, b, "<answer>zzz</answer>"),
        rollout(env, b, "<answer>zz", truncated=True),
    ]
    s = summarize(rows, env, rollouts=2)
    assert s["n"] == 4 and s["tasks"] == 2
    assert s["exact"] == 0.25
    assert s["pass@2"] == 0.5
    assert s["format_fail"] == pytest.approx(sum(not r.scores.format_ok for r in rows) / 4)
    assert s["truncated"] == 0.25
    assert s["reward"] == pytest.approx(sum(r.total for r in rows) / 4)
    assert s["character"] == pytest.approx(sum(r.components["character"] for r in rows) / 4)
    assert sum(g["n"] for g in s["by_group"].values()) == 4
    assert s["scorer_mismatches"] == 0


def test_two_checkpoints_side_by_side(env, tmp_path):
    task = env.load_tasks("heldout")[0]
    before = summarize([rollout(env, task, "nothing")], env, 1)
    after = summarize([rollout(env, task, f"<answer>{task['answer']}</answer>")], env, 1)
    text = markdown({"before": before, "after": after}, "t")
    assert "| metric | before | after | change |" in text
    assert "| exact | 0.000 | 1.000 | +1.000 |" in text
    paths = write_report({"before": before, "after": after}, tmp_path, title="t")
    assert json.loads(paths["json"].read_text())["after"]["exact"] == 1.0
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"


def test_failed_rollouts_fail_loudly():
    with pytest.raises(EvalFailed, match="1/2 rollouts failed; first: upstream stream ended"):
        check_episodes(
            [
                {"ok": True, "errors": [], "traces": [{"ok": True, "errors": [], "calls": []}]},
                {"ok": False, "errors": ["upstream stream ended before its terminal event"], "traces": []},
            ]
        )
    with pytest.raises(EvalFailed, match="no episodes"):
        check_episodes([])
