"""The design card's eval command, literally: `prime-rl serve CKPT --name checkpoint`, then
`vf-eval dakota_grammar_translation -m checkpoint -n 2 -r 1` with only PRIME_INFERENCE_URL set (no other
flag)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dakota_rl.config import ConfigError
from dakota_rl.envs import load_env
from dakota_rl.evaluate import episode_errors
from dakota_rl.serve import check_model_name, free_port

VENV_BIN = Path(sys.executable).parent
URL_LINE = "export PRIME_INFERENCE_URL="


@pytest.mark.parametrize("name", ["../x", "/abs", "a/b/c", "name with space", "x@main", ".hidden"])
def test_unsafe_model_names_are_refused(name):
    with pytest.raises(ConfigError, match="--name"):
        check_model_name(name)


def read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def wait_for_url(proc: subprocess.Popen, lines: queue.Queue, timeout: float) -> str:
    seen = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"serve printed no URL within {timeout:.0f} s: {''.join(seen)}") from None
        if line is None:
            raise AssertionError(f"serve exited {proc.wait()}: {''.join(seen)}")
        seen.append(line)
        if URL_LINE in line:
            return line.split(URL_LINE, 1)[1].strip()


def stop_early(ckpt: Path) -> None:
    """Make one token id in 8 an end token: the random tiny model then answers in a few tokens instead of the
    1,024 `transformers serve` allows when a request sets no max_tokens (minutes on a loaded CPU)."""
    path = ckpt / "generation_config.json"
    config = json.loads(path.read_text())
    vocab = json.loads((ckpt / "config.json").read_text())["vocab_size"]
    config["eos_token_id"] = [config["eos_token_id"], *range(0, vocab, 8)]
    path.write_text(json.dumps(config))


@pytest.mark.slow
def test_vf_eval_dash_m_checkpoint_evaluates_the_served_checkpoint(tiny_qwen3, tmp_path):
    ckpt = Path(shutil.copytree(tiny_qwen3, tmp_path / "step_1"))
    stop_early(ckpt)
    port = free_port()
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    serve = subprocess.Popen(
        [str(VENV_BIN / "prime-rl"), "serve", str(ckpt), "--name", "checkpoint", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(serve.stdout, lines), daemon=True).start()
    try:
        url = wait_for_url(serve, lines, timeout=300)
        assert url == f"http://127.0.0.1:{port}/v1"
        eval_env = {k: v for k, v in env.items() if k not in ("PRIME_API_KEY", "PRIME_BASE_URL")}
        eval_env.update(PRIME_INFERENCE_URL=url, PRIME_RUNS_MODE="disabled")  # no upload from a test
        done = subprocess.run(
            ["vf-eval", "dakota_grammar_translation", "-m", "checkpoint", "-n", "2", "-r", "1"],
            cwd=tmp_path,
            env=eval_env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    finally:
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=60) == 0
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the server stopped with serve"
    (traces,) = list((tmp_path / "outputs").rglob("traces.jsonl"))
    episodes = [json.loads(line) for line in traces.read_text().splitlines()]
    assert len(episodes) == 2
    scorer = load_env("dakota_grammar_translation")
    for episode in episodes:
        assert episode["ok"] and not episode_errors(episode), episode_errors(episode)
        for trace in episode["traces"]:
            text = [n["message"]["content"] for n in trace["nodes"] if n.get("sampled")][-1]
            expected = scorer.score(
                text, trace["task"]["data"], trace["calls"][-1]["finish_reason"] == "length"
            )
            assert trace["rewards"]["morphology"]["score"] == pytest.approx(expected.morphology)
    resolved = json.loads(next(traces.parent.rglob("eval.json")).read_text())
    assert resolved["model"] == "checkpoint"
