"""Serve a checkpoint as an OpenAI-compatible streaming endpoint on 127.0.0.1.

CPU (or no vLLM): `transformers serve` through `serve_launcher` (adds `data: [DONE]`),
with sampling switched on through the served folder's generation_config (`do_sample: true`;
a request temperature alone never enables it). GPU with vLLM installed: `vllm serve`.
The model is served under a name printed for `-m`: the checkpoint's path,
or `name` (`prime-rl serve CKPT --name checkpoint` serves CKPT as `checkpoint`,
so that `vf-eval dakota_grammar_translation -m checkpoint` with PRIME_INFERENCE_URL set evaluates CKPT).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dakota_rl.config import ConfigError
from dakota_rl.errors import RunFailed
from dakota_rl.models import resolve_model, write_sampling_generation_config
from dakota_rl.processes import child_options, stop_group


class ServeError(RunFailed):
    """The server exited or never became healthy."""


MODEL_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
"""A served model name: one or two path-safe parts (`checkpoint`, `dakota/step-400`)."""


def check_model_name(name: str | None) -> None:
    if name is not None and (not MODEL_NAME.match(name) or ".." in name):
        raise ConfigError(f"--name {name!r}: use letters, digits, '.', '_', '-' and at most one '/'")


def named_folder(served: Path, name: str, scratch: Path) -> Path:
    """A folder under `scratch` where the relative path `name` links to `served`: `transformers serve` started
    there with model `name` loads `served` and answers to exactly `name`."""
    root = scratch / "names"
    link = root / name
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(served.resolve(), target_is_directory=True)
    return root


@dataclass
class Server:
    """A running server: the exact model name to send, its base URL and the process."""

    name: str
    base_url: str
    process: subprocess.Popen
    log_path: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sampling_folder(model_dir: Path, scratch: Path) -> Path:
    """`model_dir` itself when its generation_config samples; else a linked copy
    whose generation_config does."""
    gen_path = model_dir / "generation_config.json"
    gen = json.loads(gen_path.read_text()) if gen_path.is_file() else {}
    if gen.get("do_sample") is True:
        return model_dir
    shadow = scratch / model_dir.name
    shadow.mkdir(parents=True, exist_ok=True)
    for item in model_dir.iterdir():
        if item.name != "generation_config.json" and not (shadow / item.name).exists():
            (shadow / item.name).symlink_to(item.resolve())
    write_sampling_generation_config(model_dir, shadow)
    return shadow


def pick_engine(engine: str) -> str:
    if engine != "auto":
        return engine
    if shutil.which("vllm"):
        import torch

        if torch.cuda.is_available():
            return "vllm"
    return "transformers"


def server_command(model_dir: Path | str, port: int, engine: str, name: str | None = None) -> list[str]:
    if engine == "vllm":
        return [
            "vllm",
            "serve",
            str(model_dir),
            "--served-model-name",
            name or str(model_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    device = "cpu"
    try:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:
        pass
    return [
        sys.executable,
        "-m",
        "dakota_rl.serve_launcher",
        str(model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        device,
        "--log-level",
        "warning",
    ]


def wait_healthy(server: Server, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    url = server.base_url.removesuffix("/v1") + "/health"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            lines = server.log_path.read_text(errors="replace").strip().splitlines() or ["(no output)"]
            raise ServeError(f"server exited with code {server.process.returncode}: {lines[-1]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise ServeError(f"server not healthy after {timeout_s:.0f} s")


@contextmanager
def serving(
    checkpoint: str | Path,
    *,
    port: int | None = None,
    engine: str = "auto",
    timeout_s: float = 300,
    name: str | None = None,
) -> Iterator[Server]:
    """Start a server for `checkpoint` (as model `name`, default its path), wait for /health,
    yield it, stop it."""
    check_model_name(name)
    model_dir = resolve_model(checkpoint).resolve()
    scratch = Path(tempfile.mkdtemp(prefix="dakota-serve-"))
    engine = pick_engine(engine)
    served = sampling_folder(model_dir, scratch) if engine == "transformers" else model_dir
    cwd = named_folder(served, name, scratch) if name and engine == "transformers" else None
    port = port or free_port()
    env = {**os.environ, "HF_HUB_CACHE": str(scratch / "hf-cache"), "TOKENIZERS_PARALLELISM": "false"}
    (scratch / "hf-cache").mkdir()
    log_path = scratch / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            server_command(name if cwd else served, port, engine, name),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            **child_options(),
        )
    server = Server(
        name=name or str(served), base_url=f"http://127.0.0.1:{port}/v1", process=proc, log_path=log_path
    )
    try:
        try:
            wait_healthy(server, timeout_s)
        except ServeError as err:
            raise ServeError(f"{err} (log kept: {log_path})") from None
        yield server
    finally:
        stop_group(proc)
    shutil.rmtree(scratch, ignore_errors=True)


def serve_forever(checkpoint: str, *, port: int = 8000, engine: str = "auto", name: str | None = None) -> int:
    """`prime-rl serve`: run until Ctrl-C, printing the name and URL to use."""
    with serving(checkpoint, port=port, engine=engine, name=name) as server:
        print(f"serving {checkpoint} at {server.base_url}")
        print(f"model name (pass exactly as -m): {server.name}")
        print(
            f"example: vf-eval dakota_grammar_translation -m {server.name} "
            f"--client.base-url {server.base_url}"
            " -n 20 --no-push"
        )
        print(
            f"or, for a plain `vf-eval dakota_grammar_translation -m {server.name}`: "
            f"export PRIME_INFERENCE_URL={server.base_url}",
            flush=True,
        )
        try:
            server.process.wait()
        except KeyboardInterrupt:
            print("stopping server")
    return 0
