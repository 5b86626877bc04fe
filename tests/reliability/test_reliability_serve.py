"""`prime-rl serve` bounds the work one request can cause.

| case | before | after |
|---|---|---|
| `max_tokens: 1e9`, client gives up after 3 s, then a `max_tokens: 5` request | the first kept generating; the second timed out | generation stops when the client goes; the second answers at once |
| `messages: "hi"`; `max_tokens: -5` / `0` / `Infinity` | 500 Internal Server Error | 400 with the reason |
| `max_tokens: 1e9` on a model with a 64-token context, waited for | generated past the context (no answer in 120 s) | capped at the context: answered with ≤ 64 tokens |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dakota_rl.serve import serving
from dakota_rl.serve_launcher import model_context, request_problem


def ask(server, max_tokens: int, timeout: float) -> dict:
    body = json.dumps(
        {"model": server.name, "max_tokens": max_tokens, "messages": [{"role": "user", "content": "hi"}]}
    ).encode()
    request = urllib.request.Request(
        server.base_url + "/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as resp:
        return json.loads(resp.read())


def with_context(tiny_qwen3: Path, folder: Path, context: int) -> Path:
    model = Path(shutil.copytree(tiny_qwen3, folder))
    config = json.loads((model / "config.json").read_text())
    config["max_position_embeddings"] = context
    (model / "config.json").write_text(json.dumps(config))
    return model


def test_malformed_requests_are_named():
    assert request_problem({"messages": "hi"}) == "`messages` must be a list of message objects"
    for bad in (-5, 0, float("inf"), True, "9"):
        assert "max_tokens" in request_problem({"messages": [], "max_tokens": bad})
    assert request_problem({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e9}) is None


def post(server, body: dict) -> int:
    request = urllib.request.Request(
        server.base_url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_model_context_reads_the_served_config(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"text_config": {"max_position_embeddings": 4096}}))
    assert model_context(str(tmp_path)) == 4096
    assert model_context(str(tmp_path / "missing")) > 0


@pytest.mark.slow
def test_an_abandoned_request_stops_generating_and_blocks_nothing(tiny_qwen3, tmp_path):
    model = with_context(tiny_qwen3, tmp_path / "long", 1_000_000)  # the cap alone would not end it
    with serving(model) as server:
        assert post(server, {"model": server.name, "messages": "hi"}) == 400
        assert post(server, {"model": server.name, "messages": [], "max_tokens": -5}) == 400
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            ask(server, 10**9, timeout=3)
        started = time.monotonic()
        answer = ask(server, 5, timeout=60)
        assert time.monotonic() - started < 30, "the abandoned generation still held the model"
        assert answer["usage"]["completion_tokens"] <= 5


@pytest.mark.slow
def test_max_tokens_is_capped_at_the_context(tiny_qwen3, tmp_path):
    model = with_context(tiny_qwen3, tmp_path / "short", 64)
    with serving(model) as server:
        answer = ask(server, 10**9, timeout=120)
    assert answer["usage"]["completion_tokens"] <= 64
