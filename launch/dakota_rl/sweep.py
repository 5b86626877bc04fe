"""Sweeps over `prime-rl train` overrides: one run per grid point, from W&B's agent or locally.

    wandb sweep sweeps/parallel_translation.yaml && wandb agent ENTITY/PROJECT/SWEEP_ID
        → the agent calls `python -m dakota_rl.sweep run CONFIG.toml --key value …` once per point
    python -m dakota_rl.sweep grid sweeps/parallel_translation.yaml [--output-dir DIR] [-- EXTRA OVERRIDES]
        → the same grid without a W&B server: each run logged offline, a summary table at the end

Parameter names are dotted prime-rl config keys (`trainer.optim.lr`, `local.lora.r`); the agent's
`--key value` arguments are parsed by the config parser itself (`config.set_values`), and each run's
`[run] name` is made from its values (`point_name`), so runs never share a folder.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dakota_rl.config import ConfigError
from dakota_rl.files import write_atomic
from dakota_rl.safe_text import safe_label

SUMMARY_KEYS = ("reward/total", "reward/chrf", "reward/special", "reward/sanity", "kl")


def load_sweep(path: Path) -> dict[str, Any]:
    """The sweep YAML, checked for what both `wandb sweep` and the local grid need."""
    import yaml

    if not path.is_file():
        raise ConfigError(f"sweep file not found: {path}")
    try:
        sweep = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from None
    if not isinstance(sweep, dict) or sweep.get("method") not in ("grid", "random", "bayes"):
        raise ConfigError(f"{path}: needs `method: grid` (or random/bayes for W&B)")
    params = sweep.get("parameters")
    if not isinstance(params, dict) or not params:
        raise ConfigError(f"{path}: needs a `parameters` table")
    for name, spec in params.items():
        check_parameter(path, name, spec)
    names = [point_name(point) for point in grid(sweep)]
    if len(set(names)) < len(names):
        raise ConfigError(f"{path}: two grid points would share a run folder name; make the values distinct")
    return sweep


SCALARS = (bool, int, float, str)


def check_parameter(path: Path, name: str, spec: Any) -> None:
    """`values` a non-empty list of scalars (a string is not iterated letter by letter), or `value` one."""
    if not isinstance(spec, dict) or ("values" in spec) == ("value" in spec):
        raise ConfigError(f"{path}: parameter {name!r} needs `values: [...]` or `value: x`")
    values = spec.get("values", [spec.get("value")])
    if not isinstance(values, list):
        raise ConfigError(
            f"{path}: parameter {name!r}: `values` must be a list, e.g. values: [{values!r}] "
            f"(got {type(values).__name__})"
        )
    if not values:
        raise ConfigError(f"{path}: parameter {name!r}: `values` is empty, so the grid has no point")
    bad = [v for v in values if not isinstance(v, SCALARS)]
    if bad:
        raise ConfigError(f"{path}: parameter {name!r}: values are numbers, text or booleans, not {bad[0]!r}")


def grid(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the parameters' values, in YAML order."""
    names = list(sweep["parameters"])
    choices = [spec.get("values", [spec.get("value")]) for spec in sweep["parameters"].values()]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*choices)]


def point_name(params: dict[str, Any]) -> str:
    """The grid point's `[run] name`, from its values: `lr2e-05_r16` for trainer.optim.lr / local.lora.r."""
    short = {"trainer.optim.lr": "lr", "local.lora.r": "r"}
    return safe_label("_".join(f"{short.get(k, k.rsplit('.', 1)[-1])}{v}" for k, v in params.items()))


def point_from_args(args: list[str]) -> dict[str, Any]:
    """The grid point W&B's agent passes (`${args_no_equals}`: `--trainer.optim.lr 1e-05 --local.lora.r 8`):
    each dotted key with its typed value, parsed and checked by the config parser, in the order given."""
    from dakota_rl.config import set_values

    if any(tok == "@" or tok.startswith("@") for tok in args):
        raise ConfigError(
            "sweep run: the config file comes first (`run CONFIG.toml`); the rest are --key value"
        )
    return set_values(args)


def point_tokens(params: dict[str, Any]) -> list[str]:
    """A grid point as config overrides: `--key value` per parameter."""
    return [tok for key, value in params.items() for tok in (f"--{key}", str(value))]


def train_once(config: str, params: dict[str, Any], extra: list[str], output_dir: Path | None) -> Path:
    """One `prime-rl train` in this process, named after its parameters; returns the run folder."""
    from dakota_rl.cli import run

    name = point_name(params)
    # The grid point's values come last, so they win over the same keys in `extra`.
    argv = ["train", "@", config, *extra, *point_tokens(params), "--run.name", name]
    if output_dir is not None:
        argv += ["--output-dir", str(output_dir)]
    from dakota_rl.backends.local.trainer import finish_wandb_run

    code = run(argv)
    finish_wandb_run()  # also when the point failed, so the next grid point gets its own run
    if code != 0:
        raise RuntimeError(f"run {name} exited {code}")
    return Path(output_dir or "outputs") / name


def summarize(run_dir: Path) -> dict[str, Any]:
    """The last step's reward components (and the run's steps) from metrics.jsonl."""
    path = run_dir / "metrics.jsonl"
    rows = (
        [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    )
    if not rows:
        return {"status": "no metrics"}
    last = rows[-1]
    return {"status": "ok", "steps": last["step"], **{k: last[k] for k in SUMMARY_KEYS if k in last}}


def table(results: list[dict[str, Any]]) -> str:
    """Markdown: one row per grid point with its parameters, final reward components and wall time."""
    params = list(results[0]["params"]) if results else []
    cols = params + ["status", "steps", *SUMMARY_KEYS, "wall_s"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        cells = {**r["params"], **r["summary"], "wall_s": r["wall_s"]}
        lines.append("| " + " | ".join(_cell(cells.get(c, "")) for c in cols) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def run_grid(sweep_path: Path, output_dir: Path, extra: list[str]) -> list[dict[str, Any]]:
    """Run every grid point offline; write summary.json and summary.md under `output_dir`."""
    sweep = load_sweep(sweep_path)
    config = str(sweep.get("program") or "")
    if not config.endswith(".toml"):
        raise ConfigError(f"{sweep_path}: `program` must name the prime-rl config (a .toml file)")
    os.environ["WANDB_MODE"] = "offline"
    os.environ.setdefault("WANDB_PROJECT", str(sweep.get("project") or "dakota-rl-sweep"))
    results = []
    for params in grid(sweep):
        started = time.perf_counter()
        try:
            summary = summarize(train_once(config, params, extra, output_dir))
        except (RuntimeError, ConfigError) as err:
            summary = {"status": f"failed: {err}"}
        results.append(
            {"params": params, "summary": summary, "wall_s": round(time.perf_counter() - started, 1)}
        )
        print(f"sweep: {point_name(params)} → {summary}", flush=True)
        write_atomic(output_dir / "summary.json", json.dumps(results, indent=2))  # after every point
        write_atomic(output_dir / "summary.md", table(results) + "\n")
    print(table(results))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dakota_rl.sweep", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="one grid point (what `wandb agent` calls)")
    one.add_argument("config")
    local = sub.add_parser("grid", help="the whole grid locally, W&B offline, summary table at the end")
    local.add_argument("sweep", type=Path)
    local.add_argument("--output-dir", type=Path, default=Path("outputs/sweep"))
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "run":
            train_once(args.config, point_from_args(rest), [], None)
        else:
            run_grid(args.sweep, args.output_dir, [t for t in rest if t != "--"])
    except (ConfigError, RuntimeError) as err:
        print(f"sweep: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
