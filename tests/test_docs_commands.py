"""Every shell command quoted in the README and the manual still works: its flags exist, the cheap ones run.

Commands come from the fenced `bash`/`sh`/`shell`/`console` blocks of README.md and docs/**/*.md. For each
`prime-rl …` and `python -m …` command of this project:

- its flags are checked: `prime-rl` by the CLI's own parser (`dakota_rl.cli`) and, for `train`, `demo` and
  `experiment`, the config loader that reads their `--dotted.key value` overrides; `python -m MODULE` by the
  flags that `python -m MODULE [SUBCOMMAND] --help` lists (or, without argparse, the module's docstring);
- it is run, from the repository root, unless the doc marks it with a comment `# needs: …` (a GPU, the hub,
  a finished run, minutes of time …) at the end of its line, or alone on a line above it in the same block
  (which marks every command below it). An unmarked command must run offline on a CPU in seconds and exit 0.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from dakota_rl.errors import UserError

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(bash|sh|shell|console)[^\n]*\n(.*?)^```", re.S | re.M)
NEEDS = re.compile(r"#.*\bneeds:")
OURS = (
    "data",
    "dakota_rl",
    "dakota_interp",
    "dakota_grammar_translation",
    "letter_counting",
    "parallel_translation",
)
FLAG = re.compile(r"(?<![\w-])(--?[A-Za-z][\w.-]*)")
SEPARATORS = {"&&", "||", ";", "|"}
RUN_TIMEOUT_S = 120


@dataclass(frozen=True)
class Command:
    where: str
    """file:line of the command in the doc."""
    argv: tuple[str, ...]
    """`prime-rl …` or `python -m MODULE …` (a `.venv/bin/` prefix dropped)."""
    env: tuple[tuple[str, str], ...]
    """VAR=value assignments in front of it."""
    needs: bool
    """Marked `# needs: …`: flags are checked, the command is not run."""

    def __str__(self) -> str:
        return f"{self.where}: {' '.join(self.argv)}"


def _logical_lines(block: str, first_line: int) -> list[tuple[int, str]]:
    """The block's lines with backslash continuations joined, each with its line number in the file."""
    out: list[tuple[int, str]] = []
    pending, start = "", first_line
    for offset, line in enumerate(block.splitlines()):
        if not pending:
            start = first_line + offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    return out


def _project_command(tokens: list[str]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]] | None:
    """(argv, env) when `tokens` is a `prime-rl` or `python -m <ours>` command, else None."""
    env = []
    while tokens and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", tokens[0]):
        name, _, value = tokens.pop(0).partition("=")
        env.append((name, value))
    if not tokens:
        return None
    program = tokens[0].removeprefix(".venv/bin/")
    if program == "prime-rl":
        return ("prime-rl", *tokens[1:]), tuple(env)
    is_python_m = program in ("python", "python3") and tokens[1:2] == ["-m"] and len(tokens) > 2
    if is_python_m and tokens[2].split(".")[0] in OURS:
        return ("python", "-m", *tokens[2:]), tuple(env)
    return None


def extract(text: str, name: str) -> list[Command]:
    """The project commands of a Markdown text's shell blocks."""
    commands: list[Command] = []
    for fence in FENCE.finditer(text):
        first_line = text.count("\n", 0, fence.start(2)) + 1
        marked_above = False
        for number, line in _logical_lines(fence.group(2), first_line):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                marked_above = marked_above or bool(NEEDS.match(stripped))
                continue
            needs = marked_above or bool(NEEDS.search(line))
            tokens = shlex.split(stripped.removeprefix("$ "), comments=True)
            segment: list[str] = []
            for token in [*tokens, ";"]:
                if token not in SEPARATORS:
                    segment.append(token)
                    continue
                found = _project_command(segment)
                if found:
                    commands.append(Command(f"{name}:{number}", found[0], found[1], needs))
                segment = []
    return commands


def documented_commands() -> list[Command]:
    return [
        command
        for path in DOCS
        for command in extract(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    ]


# --- flag checks -------------------------------------------------------------------------------------------


def _flags_of(tokens: tuple[str, ...]) -> list[str]:
    """The option names a command line uses (`--a.b=1` → `--a.b`); negative numbers are values."""
    return [t.split("=")[0] for t in tokens if t.startswith("-") and not re.fullmatch(r"-[\d.]+", t)]


@functools.cache
def _help(module: str, subcommand: str | None) -> str:
    argv = [sys.executable, "-m", module, *([subcommand] if subcommand else []), "--help"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", "GLIBC_TUNABLES": ""}
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, env=env, timeout=RUN_TIMEOUT_S)
    return done.stdout + done.stderr


def _subcommands(help_text: str) -> set[str]:
    """The choices of an argparse subcommand positional (`{a,b,c}` in the usage)."""
    usage = help_text.split("\n\n")[0]
    return {name for group in re.findall(r"\{([\w,-]+)\}", usage) for name in group.split(",")}


def check_module_flags(argv: tuple[str, ...]) -> None:
    """`python -m MODULE [SUB] …`: every flag must be one that MODULE [SUB] --help lists."""
    module, args = argv[2], argv[3:]
    flags = _flags_of(args)
    if not flags or set(flags) & {"-h", "--help"}:
        return
    text = _help(module, None)
    positional = [a for a in args if not a.startswith("-")]
    if positional and positional[0] in _subcommands(text):
        text = _help(module, positional[0])
    # a module without argparse documents its options in its docstring (e.g. `data.card --write`)
    docstring = importlib.import_module(module).__doc__ or ""
    if "usage" not in text.lower() and not docstring:
        raise AssertionError(f"`python -m {module} --help` prints no usage to check {flags} against")
    known = set(FLAG.findall(text)) | set(FLAG.findall(docstring))
    unknown = [f for f in flags if f not in known and f"--{f.removeprefix('--no-')}" not in known]
    if unknown:
        raise AssertionError(f"python -m {module}: no such option {unknown} (not in its --help or docstring)")


def check_prime_rl_flags(argv: tuple[str, ...]) -> None:
    """`prime-rl SUB …`: the CLI's parser, then the config loader for the commands that take overrides."""
    from dakota_rl.cli import DEMO_CONFIGS, _parser
    from dakota_rl.config import load_config
    from dakota_rl.experiment import load_experiment

    args = list(argv[1:])
    if args[:1] == ["interp"]:
        return check_module_flags(("python", "-m", "dakota_interp", *args[1:]))
    if set(args) & {"-h", "--help"}:
        return None
    parsed, rest = _parser().parse_known_args(args)
    if parsed.command == "train":
        load_config(rest)
    elif parsed.command == "demo":
        load_config([tok for path in DEMO_CONFIGS for tok in ("@", path)] + rest)
    elif parsed.command == "experiment":
        load_experiment(rest)
    elif rest:
        raise UserError(f"prime-rl {parsed.command}: unrecognized arguments: {' '.join(rest)}")
    return None


def check_flags(command: Command) -> None:
    if command.argv[0] == "prime-rl":
        check_prime_rl_flags(command.argv)
    else:
        check_module_flags(command.argv)


# --- the tests ---------------------------------------------------------------------------------------------

COMMANDS = documented_commands()


def test_the_docs_quote_the_main_commands_and_mark_what_cannot_run_here() -> None:
    readme = [c for c in COMMANDS if c.where.startswith("README.md")]
    assert ("prime-rl", "demo") in [c.argv for c in readme], "the README's main job"
    assert ("python", "-m", "pytest") not in [c.argv for c in COMMANDS], "pytest is not ours: never run"
    assert all(c.needs for c in readme if c.argv == ("prime-rl", "demo")), "the main job takes minutes"
    assert sum(not c.needs for c in COMMANDS) >= 5, "the offline commands are run"
    assert len({c.where.split(":")[0] for c in COMMANDS}) >= 8, "commands come from README and the pages"


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_documented_flags_exist(command: Command, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    try:
        check_flags(command)
    except UserError as err:
        pytest.fail(f"{command}\n  {err}")


@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.needs], ids=str)
def test_offline_commands_run(
    command: Command, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m` in a fresh process; `prime-rl` in this one (its dry runs share the imports of TRL)."""
    env = {"HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline", **dict(command.env)}
    if command.argv[0] == "prime-rl":
        from dakota_rl.cli import run

        monkeypatch.chdir(REPO)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        try:
            code = run(list(command.argv[1:]))
        except SystemExit as exit_:  # --help
            code = exit_.code
        assert code in (0, None), f"{command} returned {code}:\n{capsys.readouterr().out[-1500:]}"
        return
    done = subprocess.run(
        [sys.executable, *command.argv[1:]],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
        timeout=RUN_TIMEOUT_S,
    )
    assert done.returncode == 0, (
        f"{command} exited {done.returncode}:\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
    )


BROKEN = """\
```bash
prime-rl train @ configs/dakota_smoke.toml @ configs/local/cpu.toml --max-stepz 24   # needs: time
prime-rl eval outputs/demo/checkpoints/step_10 --num-exampels 20                      # needs: a run
prime-rl experiment @ configs/experiments/grpo_vs_sft.toml --seedz 2                  # needs: time
python -m data.build --chek
python -m data.card --wirte                                                          # needs: a data change
python -m dakota_interp view --model smollm2-135m-instruct                            # needs: time
```
"""


@pytest.mark.parametrize("index", range(6))
def test_a_removed_or_misspelt_flag_fails(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line of BROKEN uses a flag its command does not have (`view` takes --models, not --model)."""
    monkeypatch.chdir(REPO)
    command = extract(BROKEN, "BROKEN")[index]
    with pytest.raises((UserError, AssertionError)):
        check_flags(command)


def test_marks_and_continuations_are_read() -> None:
    text = (
        "```bash\nFOO=1 python -m data.card && ls   # a comment\n# needs: gpu\nprime-rl train @ a.toml \\\n"
        "    --max-steps 3\npython -m data.build\n```\n```bash\npython -m data.audit  # needs: time\n```\n"
    )
    first, second, third, fourth = extract(text, "x.md")
    assert first.argv == ("python", "-m", "data.card") and first.env == (("FOO", "1"),) and not first.needs
    assert second.argv == ("prime-rl", "train", "@", "a.toml", "--max-steps", "3") and second.needs
    assert third.needs and fourth.needs and fourth.where == "x.md:9"
