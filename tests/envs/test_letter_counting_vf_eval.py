"""End to end: the real `vf-eval letter_counting` against a scripted streaming server on 127.0.0.1.

The package's own Env must pick the `null` harness and `subprocess` runtime (no harness flags are passed),
every rollout must finish without errors, and each trace's reward and metrics must equal the pure scorer
on the reply it recorded. One run (binary mode, set by its CLI flag) keeps this test to about a minute;
`test_letter_counting_taskset.py` checks both modes through the same `Task.score` offline. The `null` harness
is a uv script: its first run installs its few packages from the package index (PyPI), later runs use uv's
cache."""

from __future__ import annotations

import itertools
import json

import pytest
from scripted_openai import ScriptedOpenAI, last_user_text, run_vf_eval, total_reward

from letter_counting.generate import load_eval_tasks
from letter_counting.rewards import score

pytestmark = pytest.mark.slow


def scripted_replies():
    """A reply function cycling through right, thinking, wrong, malformed and truncated answers."""
    by_prompt = {t["prompt"]: t for t in load_eval_tasks()}
    turn = itertools.count()

    def reply(body: dict) -> str | tuple[str, str]:
        counts = by_prompt[last_user_text(body)]["counts"]
        gold = json.dumps(counts) if len(counts) > 1 else str(next(iter(counts.values())))
        wrong = json.dumps(dict.fromkeys(counts, 99)) if len(counts) > 1 else "99"
        kind = next(turn) % 5
        return [
            f"<answer>{gold}</answer>",
            (f"<think>Let me count each letter.</think>\n<answer>{gold}</answer>", "stop"),
            f"<answer>{wrong}</answer>",
            f"<answer>{gold}</answer><answer>{gold}</answer>",
            (f"<think>Counting one by one: <answer>{gold}</answer>", "length"),
        ][kind]

    return reply


def reply_of(trace: dict) -> tuple[str, bool]:
    """The sampled assistant reply a trace recorded and whether its last call stopped on length."""
    sampled = [n["message"] for n in trace["nodes"] if n.get("sampled")]
    finish = [c.get("finish_reason") for c in trace["calls"] if c.get("error") is None]
    return (sampled[-1].get("content") or "").strip(), bool(finish) and finish[-1] == "length"


def test_vf_eval_rewards_equal_the_pure_scorer(tmp_path):
    mode = "binary"  # set through the CLI flag here; the default "partial" path is checked offline
    tasks = {t["id"]: t for t in load_eval_tasks([1, 3, 6])}
    with ScriptedOpenAI(scripted_replies()) as server:
        episodes = run_vf_eval(
            "letter_counting",
            server.base_url,
            tmp_path / "out",
            n=5,
            rollouts=2,
            extra_args=[
                "--env.taskset.split",
                "eval",
                "--env.taskset.eval-tiers",
                "[1, 3, 6]",
                "--env.taskset.task.reward-mode",
                mode,
                "--max-concurrent",
                "4",
            ],
        )
    assert len(server.requests) == 10 and all(r.get("stream") for r in server.requests)
    assert server.requests[0]["messages"][0]["role"] == "system"
    traces = [trace for episode in episodes for trace in episode["traces"]]
    assert len(traces) == 10
    assert all(episode["ok"] and not episode["errors"] for episode in episodes)
    totals = set()
    for trace in traces:
        assert trace["ok"] and not trace["errors"]
        task = tasks[trace["task"]["data"]["id"]]
        reply, truncated = reply_of(trace)
        expected = score(reply, task, mode, truncated=truncated)
        assert total_reward(trace) == pytest.approx(expected.total)
        assert trace["metrics"] == pytest.approx(expected.as_metrics())
        totals.add(round(expected.total, 6))
    assert 1.0 in totals and 0.0 in totals
    assert any(trace["metrics"]["truncated"] == 1.0 for trace in traces)
