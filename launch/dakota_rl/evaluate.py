"""`prime-rl eval`: serve a checkpoint, run the real `vf-eval` on the held-out split, write a report.

vf-eval exits 0 even when every rollout failed, so every episode's `ok`, `errors`, and each call's error are
checked and a failure stops the eval loudly. Each returned completion is re-scored with the environment's own
scorer (the same function the verifiers Task calls) and must agree with the reward vf-eval recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dakota_rl.config import ConfigError, EvalConfig
from dakota_rl.envs import EnvSpec, load_env
from dakota_rl.errors import RunFailed
from dakota_rl.files import write_atomic
from dakota_rl.identifiers import check_identifier
from dakota_rl.processes import child_options, stop_group
from dakota_rl.safe_text import safe_label

KEY_VAR = "DAKOTA_RL_LOCAL_KEY"


class EvalFailed(RunFailed):
    """vf-eval ran but rollouts failed (server down, protocol errors, harness errors)."""


class EvalSettings(EvalConfig):
    """What to evaluate and how: the `[local.eval]` settings (`EvalConfig`) plus what the caller decides."""

    env_id: str = "dakota_grammar_translation"
    port: int | None = None
    seed: int = 0
    env_options: dict[str, Any] = {}
    """Taskset options (as in `[orchestrator.train.source.env.taskset]`);
    the env decides which apply to eval."""


@dataclass
class Rollout:
    """One evaluated completion, re-scored."""

    task_id: str
    groups: dict[str, Any]
    completion: str | None
    truncated: bool
    scores: Any
    components: dict[str, float]
    total: float
    recorded_total: float | None


def vf_eval_command(env: EnvSpec, model: str, base_url: str, out_dir: Path, s: EvalSettings) -> list[str]:
    """The exact vf-eval command line (held-out split, null harness, subprocess runtime, never pushed).

    Values we build go as `--flag=value`; the env's taskset options go as data in `out_dir/taskset.json`
    (`@ file`), so a config value can never become a flag; the safety flags come last, where nothing overrides
    them (vf-eval's parser misreads `--client.base-url=URL`, so the client flags take their value apart).
    """
    vf_eval = shutil.which("vf-eval", path=str(Path(sys.executable).parent)) or "vf-eval"
    env_id = check_identifier(env.id, "env id")
    options = {check_identifier(k, "taskset option"): v for k, v in env.eval_options.items()}
    options_file = Path(out_dir).resolve() / "taskset.json"
    options_file.parent.mkdir(parents=True, exist_ok=True)
    options_file.write_text(json.dumps({"env": {"taskset": options}}, ensure_ascii=False))
    numbers = {
        "-n": int(s.num_examples),
        "-r": int(s.rollouts),
        "--select.seed": int(s.seed),
        "--sampling.temperature": float(s.temperature),
        "--sampling.max-tokens": int(s.max_tokens),
    }
    return [
        vf_eval,
        env_id,
        "@",
        str(options_file),
        f"-m={model}",
        *(f"{flag}={value}" for flag, value in numbers.items()),
        "-s=True",
        "--env.agent.harness.id=null",
        "--env.agent.runtime.type=subprocess",
        f"--env.taskset.split={check_identifier(env.heldout_split, 'held-out split')}",
        f"-o={Path(out_dir).resolve()}",
        "--no-rich",
        "--clean=True",
        "--client.base-url",
        _checked_url(base_url),
        "--client.api-key-var",
        KEY_VAR,
        "--no-push",
    ]


def _checked_url(url: str) -> str:
    """`url` when it is a plain http://127.0.0.1:PORT/… or http://localhost:PORT/… address (no user part)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        local = parts.scheme == "http" and parts.netloc.rsplit(":", 1)[0] in ("127.0.0.1", "localhost")
        local = local and parts.port is not None and not any(c.isspace() for c in url)
    except ValueError:
        local = False
    if not local:
        raise ConfigError(f"eval base URL must be a local http://127.0.0.1:PORT address, got {url!r}")
    return url


def run_vf_eval(env: EnvSpec, model: str, base_url: str, out_dir: Path, s: EvalSettings) -> list[dict]:
    """Run vf-eval and return its episodes; raise EvalFailed on a non-zero exit or any failed rollout."""
    out_dir.mkdir(parents=True, exist_ok=True)
    bin_dir = str(Path(sys.executable).parent)
    env_vars = {**os.environ, KEY_VAR: "EMPTY", "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = _run_child(vf_eval_command(env, model, base_url, out_dir, s), env_vars)
    write_atomic(out_dir / "vf-eval.log", result.stdout + result.stderr)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise EvalFailed(f"vf-eval exited {result.returncode}: {last} (log: {out_dir / 'vf-eval.log'})")
    traces = sorted(out_dir.glob("*/traces.jsonl"))
    if not traces:
        raise EvalFailed(f"vf-eval wrote no traces.jsonl under {out_dir}")
    episodes = [json.loads(line) for line in traces[-1].read_text().splitlines() if line.strip()]
    check_episodes(episodes)
    return episodes


def _run_child(cmd: list[str], env_vars: dict[str, str]) -> subprocess.CompletedProcess:
    """Run vf-eval in its own process group; on Ctrl-C/SIGTERM/SIGHUP stop the group (its workers too)."""
    proc = subprocess.Popen(
        cmd, env=env_vars, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **child_options()
    )
    try:
        stdout, stderr = proc.communicate()
    except BaseException:
        stop_group(proc, grace_s=5)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def episode_errors(episode: dict) -> list[str]:
    """Every error recorded in an episode, its traces and their model calls."""
    errors = [str(e) for e in episode.get("errors") or []]
    for trace in episode.get("traces", []):
        errors += [str(e) for e in trace.get("errors") or []]
        errors += [str(c["error"]) for c in trace.get("calls", []) if c.get("error")]
        if trace.get("ok") is False and not errors:
            errors.append(f"trace not ok (stop={trace.get('stop_condition')})")
    if episode.get("ok") is False and not errors:
        errors.append("episode not ok")
    return errors


def check_episodes(episodes: list[dict]) -> None:
    if not episodes:
        raise EvalFailed("vf-eval produced no episodes")
    failed = [(ep.get("id"), errs) for ep in episodes if (errs := episode_errors(ep))]
    if failed:
        first = " ".join(failed[0][1][0].split())[:300]
        raise EvalFailed(f"{len(failed)}/{len(episodes)} rollouts failed; first: {first}")


def rollouts_from(episodes: list[dict], env: EnvSpec) -> list[Rollout]:
    """Re-score each trace's final assistant message with the env's scorer."""
    rows = []
    for episode in episodes:
        for trace in episode["traces"]:
            task = trace["task"]["data"]
            sampled = [n["message"] for n in trace.get("nodes", []) if n.get("sampled")]
            completion = sampled[-1].get("content") if sampled else None
            calls = trace.get("calls", [])
            truncated = bool(calls) and calls[-1].get("finish_reason") == "length"
            scores = env.score(completion, task, truncated)
            recorded = trace.get("rewards")
            rows.append(
                Rollout(
                    task_id=str(task.get("id", trace["task"].get("key"))),
                    groups={k: task.get(k) for k in env.group_keys},
                    completion=completion,
                    truncated=truncated,
                    scores=scores,
                    components=env.component_values(scores),
                    total=float(scores.total),
                    recorded_total=(
                        sum(r["score"] * r["weight"] for r in recorded.values()) if recorded else None
                    ),
                )
            )
    return rows


def summarize(rows: list[Rollout], env: EnvSpec, rollouts: int) -> dict[str, Any]:
    """Mean reward, each component, exact / format-failure / truncation rates, pass@k, and by group."""

    def block(items: list[Rollout]) -> dict[str, Any]:
        n = len(items)
        mean = sum(r.total for r in items) / n
        var = sum((r.total - mean) ** 2 for r in items) / max(n - 1, 1)
        out: dict[str, Any] = {"n": n, "reward": mean, "reward_se": (var / n) ** 0.5}
        for name in env.components:
            out[name] = sum(r.components[name] for r in items) / n
        out["exact"] = sum(bool(r.scores.exact) for r in items) / n
        out["format_fail"] = sum(not r.scores.format_ok for r in items) / n
        out["truncated"] = sum(r.truncated for r in items) / n
        return out

    summary = block(rows)
    by_task: dict[str, list[Rollout]] = defaultdict(list)
    for r in rows:
        by_task[r.task_id].append(r)
    summary["tasks"] = len(by_task)
    if rollouts > 1:
        summary[f"pass@{rollouts}"] = sum(any(r.scores.exact for r in rs) for rs in by_task.values()) / len(
            by_task
        )
    groups: dict[str, list[Rollout]] = defaultdict(list)
    for r in rows:
        groups[" × ".join(str(r.groups[k]) for k in env.group_keys)].append(r)
    summary["by_group"] = {g: block(items) for g, items in sorted(groups.items())}
    mismatches = [r for r in rows if r.recorded_total is not None and abs(r.recorded_total - r.total) > 1e-6]
    summary["scorer_mismatches"] = len(mismatches)
    return summary


def evaluate_checkpoint(checkpoint: str | Path, s: EvalSettings, out_dir: Path) -> dict[str, Any]:
    """Serve `checkpoint`, run vf-eval on it, return the summary (also written to `out_dir/summary.json`)."""
    from dakota_rl.serve import serving

    env = load_env(s.env_id, s.env_options)
    with serving(checkpoint, port=s.port) as server:
        print(
            f"serving {checkpoint} as {server.name} at {server.base_url}; running vf-eval "
            f"(n={s.num_examples}, r={s.rollouts})",
            flush=True,
        )
        episodes = run_vf_eval(env, server.name, server.base_url, out_dir / "vf-eval", s)
    rows = rollouts_from(episodes, env)
    summary = summarize(rows, env, s.rollouts)
    if getattr(env, "corpus_metrics", None) is not None:  # corpus-level metrics (parallel_translation)
        tasks = [trace["task"]["data"] for episode in episodes for trace in episode["traces"]]
        summary["corpus"] = env.corpus_metrics([r.scores.answer for r in rows], tasks)
        summary.update({f"corpus_{k}": v / 100 for k, v in summary["corpus"].items() if isinstance(v, float)})
    summary["checkpoint"] = str(checkpoint)
    write_atomic(out_dir / "completions.jsonl", (_completion_line(r) for r in rows))
    write_atomic(out_dir / "summary.json", json.dumps(summary, indent=2))
    return summary


def _completion_line(r: Rollout) -> str:
    row = {"task_id": r.task_id, **r.groups, "completion": r.completion, "reward": r.total, **r.components}
    return json.dumps(row, ensure_ascii=False) + "\n"


def evaluate_checkpoints(checkpoints: list[str], s: EvalSettings, out_dir: Path) -> dict[str, dict]:
    """Evaluate one checkpoint, or two side by side; write report.md, report.json and report.png."""
    from dakota_rl.report import write_report

    labels = _labels(checkpoints)
    check_writable(out_dir, labels)
    results = {
        label: evaluate_checkpoint(ckpt, s, out_dir / label)
        for label, ckpt in zip(labels, checkpoints, strict=True)
    }
    paths = write_report(results, out_dir, title=f"{s.env_id}: held-out evaluation")
    print(paths["markdown"].read_text())
    print(f"report: {paths['markdown']}  {paths['json']}  {paths['png']}")
    return results


def _labels(checkpoints: list[str]) -> list[str]:
    """One folder name per checkpoint: its last path part (`..` and `.` resolved), made shell- and
    path-safe (`safe_text.safe_label`), numbered when two are alike."""
    names = [safe_label(Path(c).name if Path(c).name not in ("", ".", "..") else Path(c).resolve().name)
             for c in checkpoints]  # fmt: skip
    if len(set(names)) < len(names):
        names = [f"{i + 1}-{n}" for i, n in enumerate(names)]
    return names


def check_writable(out_dir: Path, labels: list[str]) -> None:
    """Before any server starts: each label's folder under `out_dir` can be created and written."""
    from dakota_rl.runs import resolve_run_dir

    for label in labels:
        folder = resolve_run_dir(Path(out_dir), label)
        probe = folder / ".write-check"
        write_atomic(probe, "")
        probe.unlink()
