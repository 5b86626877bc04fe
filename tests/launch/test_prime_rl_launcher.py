"""The prime-rl launcher: the process plan (pure) and its supervision with real processes on loopback.

Real `rl`/`inference` need a GPU; here small Python programs stand in for them so the launcher's own logic
(order, health wait, streaming, stopping every process group) runs for real.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dakota_rl.backends.prime_rl.checkout import Checkout
from dakota_rl.backends.prime_rl.launcher import run_plan
from dakota_rl.backends.prime_rl.plan import ProcessPlan, ProcessSpec, build_plan

REPO = Path(__file__).resolve().parents[2]

FAKE_INFERENCE = """
import http.server, os, sys
open(sys.argv[2], "w").write(str(os.getpid()))
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404); self.end_headers()
    def log_message(self, *a): pass
print("vllm starting", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""

FAKE_RL = """
import os, sys, time, urllib.request
open(sys.argv[1], "w").write(str(os.getpid()))
if len(sys.argv) > 3:
    urllib.request.urlopen(sys.argv[3], timeout=5)  # the server must be up before rl starts
print("step 1 | reward 0.10", flush=True)
if sys.argv[2] == "forever":
    time.sleep(600)
sys.exit(int(sys.argv[2]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid_file: Path) -> bool:
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); its state says whether it is gone
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def fake_plan(tmp_path: Path, rl_exit: str, *, inference: bool = True) -> tuple[ProcessPlan, Path, Path]:
    port = free_port()
    health = f"http://127.0.0.1:{port}/health"
    inf_pid, rl_pid = tmp_path / "inference.pid", tmp_path / "rl.pid"
    procs = []
    if inference:
        procs.append(
            ProcessSpec(
                "inference",
                (sys.executable, str(script(tmp_path, "inf.py", FAKE_INFERENCE)), str(port), str(inf_pid)),
                env={"CUDA_VISIBLE_DEVICES": "0"},
                log_file=tmp_path / "inference.log",
                ready_url=health,
                ready_timeout_s=30,
            )
        )
    procs.append(
        ProcessSpec(
            "rl",
            (sys.executable, str(script(tmp_path, "rl.py", FAKE_RL)), str(rl_pid), rl_exit, health),
            env={"CUDA_VISIBLE_DEVICES": "0"},
        )
    )
    return (
        ProcessPlan(run_dir=tmp_path / "run", launcher_dir=tmp_path, processes=tuple(procs)),
        inf_pid,
        rl_pid,
    )


def test_build_plan_commands_env_and_order(tmp_path):
    checkout = Checkout(tmp_path / "prime-rl")
    plan = build_plan(
        checkout,
        rl_configs=[tmp_path / "launch/rl.toml"],
        inference_config=REPO / "configs/inference_gpu0.toml",
        model="Qwen/Qwen3-0.6B",
        seq_len=1536,
        port=8000,
        output_dir=tmp_path / "outputs",
        run_name="dakota-400",
        launcher_dir=tmp_path / "launch",
        path="/usr/bin",
        resume=True,
    )
    inference, rl = plan.processes
    venv_bin = tmp_path / "prime-rl/.venv/bin"
    assert inference.argv == (
        str(venv_bin / "inference"),
        "@",
        str(REPO / "configs/inference_gpu0.toml"),
        "--vllm.model",
        "Qwen/Qwen3-0.6B",
        "--vllm.max-model-len",
        "1536",
    )
    assert inference.ready_url == "http://localhost:8000/health"
    assert inference.log_file == tmp_path / "launch/inference.log"
    assert rl.argv == (
        str(venv_bin / "rl"),
        "@",
        str(tmp_path / "launch/rl.toml"),
        "--output-dir",
        str(tmp_path / "outputs"),
        "--run.name",
        "dakota-400",
        "--resume",
    )
    assert rl.log_file is None and rl.ready_url is None
    for spec in plan.processes:
        assert spec.env == {
            "PATH": f"{venv_bin}:/usr/bin",
            "VIRTUAL_ENV": str(tmp_path / "prime-rl/.venv"),
            "UV_NO_SYNC": "1",
            "PYTHONUNBUFFERED": "1",
            "CUDA_VISIBLE_DEVICES": "0",
        }
    assert plan.run_dir == tmp_path / "outputs/dakota-400"
    described = plan.describe()
    assert described.index("[inference]") < described.index("[rl]")
    assert "wait for http://localhost:8000/health" in described
    assert json.loads(plan.to_json())["processes"][1]["name"] == "rl"


def test_dry_run_plan_is_rl_alone(tmp_path):
    plan = build_plan(
        Checkout(tmp_path),
        rl_configs=[tmp_path / "rl.toml"],
        inference_config=tmp_path / "inf.toml",
        model="m",
        seq_len=1024,
        port=8000,
        output_dir=tmp_path / "o",
        run_name="r",
        launcher_dir=tmp_path,
        path="",
        dry_run=True,
    )
    (rl,) = plan.processes
    assert rl.argv[-1] == "--dry-run" and "--clean" not in rl.argv, "the launcher cleans, never prime-rl"


def test_run_plan_waits_for_health_streams_and_stops_inference(tmp_path):
    plan, inf_pid, rl_pid = fake_plan(tmp_path, "0")
    out = io.StringIO()
    assert run_plan(plan, out=out, poll_s=0.1, grace_s=5) == 0
    text = out.getvalue()
    assert "[inference] ready" in text and "step 1 | reward 0.10" in text
    assert text.index("[inference] ready") < text.index("[rl] starting")
    assert "vllm starting" in (tmp_path / "inference.log").read_text()
    assert not alive(inf_pid), "inference must be stopped when rl ends"


def test_run_plan_returns_rl_failure_and_stops_everything(tmp_path):
    plan, inf_pid, _ = fake_plan(tmp_path, "3")
    out = io.StringIO()
    assert run_plan(plan, out=out, poll_s=0.1, grace_s=5) == 3
    assert "[rl] exited with code 3" in out.getvalue()
    assert not alive(inf_pid)


def test_run_plan_fails_when_inference_dies_before_ready(tmp_path):
    crash = script(tmp_path, "crash.py", "import sys; print('CUDA out of memory'); sys.exit(7)")
    plan = ProcessPlan(
        tmp_path,
        tmp_path,
        (
            ProcessSpec(
                "inference",
                (sys.executable, str(crash)),
                {},
                tmp_path / "inference.log",
                f"http://127.0.0.1:{free_port()}/health",
                30,
            ),
            ProcessSpec("rl", (sys.executable, "-c", "raise SystemExit('rl must not start')"), {}),
        ),
    )
    out = io.StringIO()
    assert run_plan(plan, out=out, poll_s=0.1, grace_s=5) == 1
    assert "inference exited with code 7" in out.getvalue()
    assert "CUDA out of memory" in out.getvalue()
    assert "[rl] starting" not in out.getvalue()


def test_run_plan_stops_rl_when_inference_dies_during_the_run(tmp_path):
    plan, inf_pid, rl_pid = fake_plan(tmp_path, "forever")
    out = io.StringIO()
    import threading

    def kill_inference_later():
        while not rl_pid.exists():
            time.sleep(0.05)
        os.kill(int(inf_pid.read_text()), signal.SIGKILL)

    threading.Thread(target=kill_inference_later, daemon=True).start()
    assert run_plan(plan, out=out, poll_s=0.1, grace_s=5) == 1
    assert "[inference] exited with code -9 while rl was running" in out.getvalue()
    assert not alive(rl_pid)


def test_ctrl_c_stops_every_process_group(tmp_path):
    plan, inf_pid, rl_pid = fake_plan(tmp_path, "forever")
    driver = tmp_path / "driver.py"
    driver.write_text(
        textwrap.dedent(f"""
        import pickle, sys
        from dakota_rl.backends.prime_rl.launcher import run_plan
        plan = pickle.loads(open({str(tmp_path / "plan.pkl")!r}, "rb").read())
        sys.exit(run_plan(plan, poll_s=0.1, grace_s=5))
    """)
    )
    import pickle

    (tmp_path / "plan.pkl").write_bytes(pickle.dumps(plan))
    proc = subprocess.Popen(
        [sys.executable, str(driver)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 60
    while not rl_pid.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rl_pid.exists(), proc.communicate(timeout=10)[0]
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "interrupted, stopping every process it started" in output
    assert not alive(inf_pid) and not alive(rl_pid)
