"""`serve` + the real `vf-eval` on a trained-format checkpoint of a tiny Qwen3, and the [DONE] remedy."""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
from pathlib import Path

import pytest

from dakota_rl.envs import load_env
from dakota_rl.evaluate import EvalSettings, episode_errors, evaluate_checkpoints
from dakota_rl.serve import sampling_folder, serving
from dakota_rl.serve_launcher import DONE, with_done_event


class _Response:
    def __init__(self, chunks):
        async def body():
            for c in chunks:
                yield c

        self.body_iterator = body()


def test_streaming_wrapper_appends_done_event():
    wrapped = with_done_event(lambda: _Response(["data: {}\n\n"]))

    async def collect():
        return [c async for c in wrapped().body_iterator]

    assert asyncio.run(collect()) == ["data: {}\n\n", DONE]


def test_sampling_folder_never_edits_the_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{}")
    (ckpt / "generation_config.json").write_text(json.dumps({"do_sample": False, "temperature": 0.5}))
    served = sampling_folder(ckpt, tmp_path / "scratch")
    assert json.loads((served / "generation_config.json").read_text()) == {
        "do_sample": True,
        "temperature": 0.5,
    }
    assert json.loads((ckpt / "generation_config.json").read_text())["do_sample"] is False
    assert (served / "config.json").resolve() == (ckpt / "config.json").resolve()


def test_episode_errors_finds_nested_failures():
    episode = {
        "ok": True,
        "errors": [],
        "traces": [{"ok": True, "errors": [], "calls": [{"error": "502 upstream"}]}],
    }
    assert episode_errors(episode) == ["502 upstream"]
    assert (
        episode_errors({"ok": True, "errors": [], "traces": [{"ok": True, "errors": [], "calls": [{}]}]})
        == []
    )


@pytest.mark.slow
def test_serve_streams_with_done_and_samples(tiny_qwen3, tmp_path):
    ckpt = Path(shutil.copytree(tiny_qwen3, tmp_path / "ckpt"))
    with serving(ckpt) as server:
        assert server.name == str(ckpt.resolve())
        body = json.dumps(
            {
                "model": server.name,
                "stream": True,
                "max_tokens": 4,
                "messages": [{"role": "user", "content": "hi"}],
            }
        ).encode()
        request = urllib.request.Request(
            server.base_url + "/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as resp:
            events = [line for line in resp.read().decode().splitlines() if line.startswith("data:")]
    assert events[-1] == "data: [DONE]"
    assert server.process.poll() is not None  # stopped on exit


@pytest.mark.slow
def test_eval_runs_real_vf_eval_and_rewards_match_the_scorer(tiny_qwen3, tmp_path):
    ckpt = Path(shutil.copytree(tiny_qwen3, tmp_path / "step_1"))
    settings = EvalSettings(num_examples=2, rollouts=2, max_tokens=8, temperature=1.0)
    results = evaluate_checkpoints([str(ckpt)], settings, tmp_path / "eval")
    summary = results["step_1"]
    assert summary["n"] == 4 and summary["tasks"] == 2
    assert summary["scorer_mismatches"] == 0
    assert "pass@2" in summary
    env = load_env("dakota_grammar_translation")
    rows = [
        json.loads(line)
        for line in (tmp_path / "eval" / "step_1" / "completions.jsonl").read_text().splitlines()
    ]
    traces = next((tmp_path / "eval" / "step_1" / "vf-eval").glob("*/traces.jsonl"))
    episodes = [json.loads(line) for line in traces.read_text().splitlines()]
    assert all(ep["ok"] and not episode_errors(ep) for ep in episodes)
    for episode in episodes:
        for trace in episode["traces"]:
            text = [n["message"]["content"] for n in trace["nodes"] if n.get("sampled")][-1]
            truncated = trace["calls"][-1]["finish_reason"] == "length"
            expected = env.score(text, trace["task"]["data"], truncated)
            recorded = {name: r["score"] for name, r in trace["rewards"].items()}
            for component in env.components:
                assert recorded[component] == pytest.approx(getattr(expected, component))
    assert len(rows) == 4
    for name in ("report.md", "report.json", "report.png"):
        assert (tmp_path / "eval" / name).stat().st_size > 100
