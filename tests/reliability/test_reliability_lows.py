"""Low findings: the malloc re-exec, the orthography command, model-card headings, eval base URLs.

| case | before | after |
|---|---|---|
| a script that calls `dakota_rl.cli.main()` | the re-exec ran the whole script twice | runs once: only `prime-rl` itself re-executes |
| `python -` (a script from stdin) calling the re-exec | re-exec read an empty stdin: nothing ran, exit 0 | runs, no re-exec |
| a re-executed process whose `GLIBC_TUNABLES` was stripped (glibc ≥ 2.39, AT_SECURE) | would re-exec again, endlessly | `DAKOTA_RL_MALLOC_REEXEC` guard: at most once |
| orthography CLI on a missing file, a directory, `/dev/zero` | printed the name as "converted" text, exit 0 | one line, exit 2 |
| orthography CLI into `\\| head -1` | BrokenPipeError traceback | quiet, exit 0; lines streamed |
| run name `card<img src=x onerror=alert(1)>`, model folder ``m`d <b>l`` in the model card | raw HTML in the `# ` heading; the backtick broke the code span | escaped heading; a longer code fence |
| `_checked_url("http://127.0.0.1:9@evil.example/v1")` | accepted (host evil.example) | refused |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from dakota_rl.config import ConfigError
from dakota_rl.evaluate import _checked_url
from dakota_rl.malloc import REEXEC_GUARD, TUNABLES
from dakota_rl.model_card import code_span, markdown_text

glibc_only = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc tunables exist only on glibc"
)
ORTHOGRAPHY = [sys.executable, "-m", "dakota_grammar_translation.orthography", "--to", "modern"]


@glibc_only
def test_a_script_calling_main_runs_once(tmp_path):
    count = tmp_path / "count"
    script = tmp_path / "script.py"
    script.write_text(
        f"import sys\nopen({str(count)!r}, 'a').write('x')\nsys.argv[1:] = ['train', '@', 'no/such.toml']\n"
        "from dakota_rl.cli import main\nmain()\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    assert result.returncode == 2 and count.read_text() == "x", "the script ran more than once"


@glibc_only
def test_stdin_scripts_run_and_the_guard_stops_a_second_reexec(tmp_path):
    code = "from dakota_rl.malloc import reexec_with_tunables\nreexec_with_tunables()\nimport os\n"
    code += "print('ran', os.environ.get('GLIBC_TUNABLES'))\n"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-"], input=code, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "ran None"
    script = tmp_path / "probe.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == f"ran {TUNABLES}"
    guarded = {**env, REEXEC_GUARD: "1"}  # as after one re-exec whose tunables the loader dropped
    out = subprocess.run([sys.executable, str(script)], env=guarded, capture_output=True, text=True)
    assert out.stdout.strip() == "ran None"


@pytest.mark.parametrize("target", ["missing.txt", "/no/such/file", "DIR", "/dev/zero"])
def test_orthography_refuses_what_is_not_a_text_file(tmp_path, target):
    target = str(tmp_path) if target == "DIR" else target
    result = subprocess.run([*ORTHOGRAPHY, target], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1, result


def test_orthography_streams_into_a_closed_pipe_quietly(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("wićaśta\n" * 200_000)
    result = subprocess.run(
        f"{' '.join(ORTHOGRAPHY)} {big} | head -1", shell=True, capture_output=True, text=True, timeout=120
    )
    assert result.stdout == "wičašta\n" and "Traceback" not in result.stderr, result.stderr
    text = subprocess.run([*ORTHOGRAPHY, "wićaśta kiŋ hi."], capture_output=True, text=True, timeout=60)
    assert text.stdout == "wičašta kiŋ hi.\n", "plain Dakota text is still converted"


def test_model_card_heading_and_code_spans_hold_text_literally():
    heading = markdown_text("card<img src=x onerror=alert(1)>")
    assert "<" not in heading and "&lt;img" in heading
    assert code_span("m`d <b>l") == "``m`d <b>l``" and code_span("plain") == "`plain`"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9@evil.example/v1", "http://user@127.0.0.1:80/v1",
                                 "http://127.0.0.1:x/v1", "https://127.0.0.1:80/v1"])  # fmt: skip
def test_eval_base_urls_are_plain_loopback_addresses(url):
    with pytest.raises(ConfigError, match="local http"):
        _checked_url(url)
    assert _checked_url("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"
