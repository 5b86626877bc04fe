"""Test utilities: a scripted OpenAI-compatible server on 127.0.0.1 and a runner for the real `vf-eval`.

`ScriptedOpenAI(reply)` answers `POST /v1/chat/completions` with `reply(request_body)` — a completion
text, or `(text, finish_reason)` — streamed the way verifiers expects (a chunk with role + content, a
chunk with `finish_reason`, a usage-only chunk, then `data: [DONE]`), or as one JSON object when the
request does not ask for a stream. Every request body is kept in `.requests`.

`run_vf_eval(...)` runs the installed `vf-eval` CLI against such a server and returns the episodes of
its traces.jsonl (vf-eval exits 0 even when rollouts fail: check `ok` and `errors` in what it returns).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Reply = Callable[[dict[str, Any]], "str | tuple[str, str]"]
VENV_BIN = Path(sys.executable).parent


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message of a chat request (string or content-part list)."""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(part.get("text", "") for part in content if isinstance(part, dict))
            return content or ""
    return ""


class ScriptedOpenAI:
    """A streaming Chat Completions server whose replies come from a Python function."""

    def __init__(self, reply: Reply, *, model: str = "scripted-model") -> None:
        self.reply = reply
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>/v1` once started."""
        if self._server is None:
            raise RuntimeError("ScriptedOpenAI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen on a free loopback port in a daemon thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, body: dict[str, Any]) -> tuple[str, str]:
        """(text, finish_reason) for one request."""
        self.requests.append(body)
        out = self.reply(body)
        return (out, "stop") if isinstance(out, str) else (out[0], out[1])


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages") or [])
    completion_tokens = max(1, len(text.split()))
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _chat_payload(server: ScriptedOpenAI, body: dict[str, Any]) -> dict[str, Any] | list[dict[str, Any]]:
    """The scripted answer to one chat request: a chat.completion object, or the chunks of a stream."""
    text, finish = server.answer(body)
    completion_id = f"chatcmpl-{len(server.requests)}"
    created = int(time.time())
    model = body.get("model") or server.model
    usage = _usage(body, text)
    if not body.get("stream"):
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
        }
    head = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
    }
    return [
        {
            **head,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}],
        },
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
        {**head, "choices": [], "usage": usage},
    ]


class _Handler(BaseHTTPRequestHandler):
    """The scripted server's routes: /models, /health and /chat/completions (whole or streamed)."""

    scripted: ScriptedOpenAI

    def log_message(self, *args: object) -> None:
        return

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": self.scripted.model, "object": "model"}]})
        elif self.path.rstrip("/").endswith("/health"):
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "request body is not JSON"}})
            return
        payload = _chat_payload(self.scripted, body)
        if isinstance(payload, dict):
            self._json(200, payload)
        else:
            self._stream(payload)

    def _stream(self, events: list[dict[str, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for event in events:
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


def _handler(server: ScriptedOpenAI) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to `server`."""
    return type("Handler", (_Handler,), {"scripted": server})


def run_vf_eval(
    taskset_id: str,
    base_url: str,
    out_dir: Path,
    n: int,
    rollouts: int,
    extra_args: Sequence[str] = (),
    *,
    model: str = "scripted-model",
    timeout: float = 600,
) -> list[dict[str, Any]]:
    """Run the real `vf-eval` (venv bin first on PATH, `--no-push`) and return its traces.jsonl episodes."""
    cmd = [
        str(VENV_BIN / "vf-eval"),
        taskset_id,
        "-m",
        model,
        "--client.base-url",
        base_url,
        "--client.api-key-var",
        "SCRIPTED_OPENAI_KEY",
        "-n",
        str(n),
        "-r",
        str(rollouts),
        "--no-push",
        "-o",
        str(out_dir),
        *extra_args,
    ]
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SCRIPTED_OPENAI_KEY": "EMPTY",
        "PRIME_RUNS_MODE": "disabled",
        "NO_COLOR": "1",
    }
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if proc.returncode != 0:
        raise AssertionError(
            f"vf-eval exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    traces = sorted(Path(out_dir).rglob("traces.jsonl"))
    if not traces:
        raise AssertionError(f"vf-eval wrote no traces.jsonl under {out_dir}:\n{proc.stderr[-3000:]}")
    episodes = []
    for path in traces:
        episodes += [
            json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    return episodes


def total_reward(trace: dict[str, Any]) -> float:
    """Σ score × weight of one trace's rewards (traces.jsonl stores no total)."""
    return sum((r["score"] or 0.0) * r["weight"] for r in (trace.get("rewards") or {}).values())
