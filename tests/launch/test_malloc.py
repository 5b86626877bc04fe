"""The glibc malloc settings `prime-rl` re-executes itself with (see dakota_rl/malloc.py)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from conftest import prime_rl

from dakota_rl.malloc import TUNABLES, wants_tunables

glibc_only = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc tunables exist only on glibc"
)


@glibc_only
def test_a_users_own_tunables_are_left_alone():
    assert wants_tunables({}) and not wants_tunables({"GLIBC_TUNABLES": ""})


@glibc_only
def test_the_command_runs_once_under_the_tunables_and_keeps_exit_codes(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    bad = prime_rl("train", "@", "no/such.toml", env=env)
    assert bad.returncode == 2 and bad.stderr.count("prime-rl: error:") == 1, bad.stderr
    code = "import os, sys; print(os.environ.get('GLIBC_TUNABLES'))"
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nfrom dakota_rl.malloc import reexec_with_tunables\nreexec_with_tunables()\n" + code
    )
    out = subprocess.run([sys.executable, str(probe)], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == TUNABLES
    mine = {**env, "GLIBC_TUNABLES": "glibc.malloc.arena_max=1"}
    out = subprocess.run([sys.executable, str(probe)], env=mine, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "glibc.malloc.arena_max=1"
