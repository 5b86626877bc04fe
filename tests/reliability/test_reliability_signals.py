"""Faults from outside: SIGTERM/SIGHUP to a command that started children (a model server, vf-eval).

| case | before | after |
|---|---|---|
| SIGTERM to `prime-rl serve` | server kept running under PID 1, port held | server stopped, port free, exit 130 |
| SIGHUP to `prime-rl eval` mid-run | server and vf-eval survived | all children gone, port free |
| SIGKILL to the parent of a child we started | child orphaned | child gets SIGTERM from the kernel (PDEATHSIG) |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PRIME_RL

from dakota_rl.malloc import TUNABLES, wants_tunables
from dakota_rl.serve import free_port


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        children = {p for p, pp in parents.items() if pp in frontier}
        frontier = children - found
        found |= children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def port_free(port: int) -> bool:
    """A new server could listen on `port` (SO_REUSEADDR, as servers bind: TIME_WAIT sockets do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start(*args: str) -> subprocess.Popen:
    """Run `prime-rl ARGS` and return once it prints `serving …` (its server is healthy)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [PRIME_RL, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("serving "):
            return proc
    proc.wait()
    raise AssertionError("server did not start: " + "".join(lines)[-3000:])


def assert_all_gone(pids: set[int], port: int) -> None:
    wait_for(lambda: not any(alive(p) for p in pids), 60, f"children {sorted(pids)} to exit")
    wait_for(lambda: port_free(port), 30, f"port {port} to be free")


@pytest.mark.slow
def test_sigterm_to_serve_stops_the_server_and_frees_the_port(tiny_qwen3, tmp_path):
    port = free_port()
    proc = start("serve", str(tiny_qwen3), "--port", str(port), "--engine", "transformers")
    try:
        if wants_tunables(os.environ):  # the command re-executed itself with them, keeping its PID
            environ = Path(
                f"/proc/{proc.pid}/environ"
            ).read_text()  # (glibc splits the value at ":" in place)
            assert f"GLIBC_TUNABLES={TUNABLES.split(':')[0]}" in environ.split("\0")
        children = descendants(proc.pid)
        assert children and not port_free(port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0  # like Ctrl-C: serve stops its server and exits cleanly
        assert_all_gone(children, port)
    finally:
        proc.kill()


@pytest.mark.slow
def test_sighup_to_eval_mid_run_leaves_no_child(tiny_qwen3, tmp_path):
    port = free_port()
    proc = start(
        "eval",
        str(tiny_qwen3),
        "--env",
        "letter_counting",
        "-n",
        "200",
        "--max-tokens",
        "256",
        "--port",
        str(port),
        "--output-dir",
        str(tmp_path / "ev"),
    )
    try:

        def vf_eval_running() -> bool:
            return any(
                "vf-eval" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
                for p in descendants(proc.pid)
                if alive(p)
            )

        wait_for(vf_eval_running, 120, "vf-eval to start")
        children = descendants(proc.pid)
        proc.send_signal(signal.SIGHUP)
        assert proc.wait(timeout=60) == 130
        assert_all_gone(children, port)
    finally:
        proc.kill()


def test_a_child_dies_when_its_parent_is_killed(tmp_path):
    """The parent starts a sleeping child with our options, then dies by SIGKILL (no cleanup code runs)."""
    code = (
        "import subprocess, sys, time\nfrom dakota_rl.processes import child_options\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], "
        "**child_options())\n"
        "print(child.pid, flush=True); time.sleep(120)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert alive(child)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    wait_for(lambda: not alive(child), 30, "the orphaned child to exit")
