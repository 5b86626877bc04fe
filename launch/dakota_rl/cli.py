"""The `prime-rl` command: train | serve | eval | demo | experiment | setup | export | interp.

Heavy modules (torch, transformers, TRL) are imported inside the commands, so `--help` is instant.
User mistakes print one line `prime-rl: error: …` and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dakota_rl.errors import ArgumentParser, RunFailed, UserError, one_line

if TYPE_CHECKING:
    from dakota_rl.config import ResolvedConfig

CONFIG_HELP = """\
config: prime-rl's TOML schema. `@ file.toml` (space after @; several files deep-merge left to right), then
dotted kebab-case overrides: --max-steps 5  --trainer.optim.lr 1e-6  --orchestrator.group-size 4
--local.lora.r 8 (booleans: --flag / --no-flag; null: None; lists: several values or JSON). Unknown keys are
refused with their dotted path; --dry-run prints the resolved tree.
Local-backend-only settings live in a [local] table (configs/local/*.toml), never sent to prime-rl. The run
flags below are config keys too: output_dir, [run] name, [launch] backend/resume/clean/dry_run."""

DEMO_CONFIGS = ["configs/dakota_smoke.toml", "configs/local/cpu.toml", "configs/local/demo.toml"]


def _run_flags(p: argparse.ArgumentParser) -> None:
    """The run options; `config_tokens` hands them to the config parser (`output_dir`, `[run] name`,
    `[launch]`), so they live in the one typed tree."""
    p.add_argument("--output-dir", default=None, help="parent of run folders (default: outputs)")
    p.add_argument(
        "--run.name",
        "--run-name",
        dest="run_name",
        help="run folder name (default: W&B name, else ENV--MODEL)",
    )
    p.add_argument("--resume", action="store_true", help="continue from the run's latest checkpoint")
    p.add_argument("--clean", action="store_true", help="delete an existing run folder first")
    p.add_argument("--dry-run", action="store_true", help="resolve and print the config, do not train")


def config_tokens(args: argparse.Namespace, tokens: list[str], *, run_name: str | None = None) -> list[str]:
    """`tokens` plus the run options argparse read, as overrides of the typed tree (they come last, so they
    win over the files): `--output-dir`, `--run.name` (`run_name` when none was given), `--launch.*`."""
    out = list(tokens)
    if args.output_dir is not None:
        out += ["--output-dir", str(args.output_dir)]
    if (args.run_name or run_name) is not None:
        out += ["--run.name", args.run_name or run_name]
    if getattr(args, "backend", None):
        out += ["--launch.backend", args.backend]
    return out + [f"--launch.{flag.replace('_', '-')}" for flag in LAUNCH_FLAGS if getattr(args, flag, False)]


LAUNCH_FLAGS = ("resume", "clean", "dry_run")


def _training_commands(sub: argparse._SubParsersAction) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    train = sub.add_parser(
        "train", help="train with GRPO (prime-rl on a GPU, or TRL locally)", allow_abbrev=False,
        epilog=CONFIG_HELP, formatter_class=raw,
        usage="prime-rl train @ CONFIG.toml [@ MORE.toml ...] [--dotted.key VALUE ...] [options]",
    )  # fmt: skip
    train.add_argument(
        "--backend", choices=["auto", "local", "prime-rl"], default="auto",
        help="auto: prime-rl when a CUDA GPU and a prime-rl checkout exist and the config is not local-only "
        "(no [local] table, no local model alias), else local (TRL); prints which and why",
    )  # fmt: skip
    _run_flags(train)
    demo = sub.add_parser(
        "demo", help="the CPU main job: baseline eval → (SFT) → GRPO → eval → report", allow_abbrev=False,
        epilog=f"Runs train @ {' @ '.join(DEMO_CONFIGS)} plus before/after held-out evals.\n" + CONFIG_HELP,
        formatter_class=raw,
    )  # fmt: skip
    _run_flags(demo)


def _serving_commands(sub: argparse._SubParsersAction) -> None:
    from dakota_rl.config import EvalConfig

    experiment = sub.add_parser(
        "experiment",
        help="GRPO vs an SFT control from one SFT warm-up, paired held-out eval, report",
        allow_abbrev=False,
        usage="prime-rl experiment @ configs/experiments/grpo_vs_sft.toml [--seeds 0 1 ...]",
    )
    experiment.add_argument("--output-dir", default="outputs", help="parent of the run folder")
    experiment.add_argument("--run.name", "--run-name", dest="run_name", default="grpo_vs_sft")

    serve = sub.add_parser("serve", help="serve a checkpoint as an OpenAI-compatible endpoint on 127.0.0.1")
    serve.add_argument("checkpoint", help="HF folder (e.g. outputs/RUN/checkpoints/step_N) or model name")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--engine", choices=["auto", "transformers", "vllm"], default="auto")
    serve.add_argument(
        "--name",
        default="checkpoint",
        help="model name to serve under, the -m of vf-eval (default: checkpoint)",
    )
    ev = sub.add_parser("eval", help="serve checkpoint(s), run vf-eval on the held-out split, write a report")
    ev.add_argument("checkpoints", nargs="+", help="one checkpoint, or two to compare side by side")
    ev.add_argument("--env", default="dakota_grammar_translation", help="environment id")
    defaults = EvalConfig()
    ev.add_argument("-n", "--num-examples", type=int, default=defaults.num_examples, help="held-out tasks")
    ev.add_argument("-r", "--rollouts", type=int, default=defaults.rollouts, help="samples per task (pass@k)")
    ev.add_argument("--temperature", type=float, default=defaults.temperature)
    ev.add_argument("--max-tokens", type=int, default=defaults.max_tokens)
    ev.add_argument("--port", type=int, default=None, help="server port (default: a free one)")
    ev.add_argument("--output-dir", type=Path, default=Path("outputs/eval"))


def _prime_rl_commands(sub: argparse._SubParsersAction) -> None:
    setup = sub.add_parser("setup", help="prepare a prime-rl checkout at the pinned commit (GPU machines)")
    setup.add_argument("--prime-rl-dir", type=Path, default=None, help="checkout location ($PRIME_RL_DIR)")
    setup.add_argument("--force", action="store_true")
    export = sub.add_parser("export", help="turn prime-rl weight broadcasts into HF checkpoints")
    export.add_argument("run_dir", type=Path)
    export.add_argument("--step", default="latest", help="step number, latest, or all")
    export.add_argument("--base-model", default=None, help="model whose config/tokenizer to copy")
    export.add_argument("--out", type=Path, default=None)


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="prime-rl",
        description="Train, serve and evaluate small LMs on the Dakota grammar environments.",
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _training_commands(sub)
    _serving_commands(sub)
    _prime_rl_commands(sub)
    sub.add_parser(
        "interp", help="interpretability: Dakota vs math (`prime-rl interp --help`)", add_help=False
    )
    return parser


def prime_rl_available() -> tuple[bool, str]:
    """(True, "") when a CUDA GPU and a prepared prime-rl checkout exist, else (False, why not)."""
    from dakota_rl.backends.prime_rl import available

    return available()


def choose_backend(resolved: ResolvedConfig, available=prime_rl_available) -> tuple[str, str]:
    """(backend, why) for `[launch] backend`. `auto` never hands prime-rl a local-only model alias or a config
    with `[local]`."""
    from dakota_rl.models import is_local_alias

    choice = resolved.launch.backend
    model = resolved.config.model.name
    alias = is_local_alias(model)
    has_local = "local" in resolved.config.model_fields_set
    if choice == "prime-rl":
        if alias:
            raise UserError(
                f"model {model!r} is a local-only alias that vLLM cannot load: set [model] name to "
                "an HF hub id for --backend prime-rl, or use --backend local"
            )
        return "prime-rl", "asked for" + (" ([local] settings are not sent to prime-rl)" if has_local else "")
    if choice == "local":
        return "local", "asked for"
    if alias:
        return "local", f"model {model!r} is a local-only alias"
    if has_local:
        return "local", "the config has a [local] table (local-backend settings)"
    ok, reason = available()
    return ("prime-rl", "a CUDA GPU and a prime-rl checkout are ready") if ok else ("local", reason)


def cmd_train(args: argparse.Namespace, tokens: list[str]) -> int:
    from dakota_rl.config import load_config

    if not any(t == "@" or t.startswith("@") for t in tokens):
        raise UserError("train needs a config: prime-rl train @ configs/dakota_smoke.toml")
    resolved = load_config(config_tokens(args, tokens))
    backend, why = choose_backend(resolved)
    print(f"backend: {backend} ({why})", flush=True)
    if backend == "prime-rl":
        from dakota_rl.backends.prime_rl import train
    else:
        from dakota_rl.backends.local import train
    return train(resolved)


def cmd_demo(args: argparse.Namespace, tokens: list[str]) -> int:
    from dakota_rl.demo import run_demo

    demo = [tok for path in DEMO_CONFIGS for tok in ("@", path)] + tokens
    return run_demo(config_tokens(args, demo, run_name="demo"))


def cmd_experiment(args: argparse.Namespace, config_tokens: list[str]) -> int:
    from dakota_rl.experiment import load_experiment, run_experiment
    from dakota_rl.runs import resolve_run_dir

    run_dir = resolve_run_dir(args.output_dir, args.run_name)
    run_experiment(load_experiment(config_tokens), run_dir)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dakota_rl.serve import serve_forever

    return serve_forever(args.checkpoint, port=args.port, engine=args.engine, name=args.name)


def cmd_eval(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from dakota_rl.evaluate import EvalSettings, evaluate_checkpoints

    if len(args.checkpoints) > 2:
        raise UserError("eval takes one checkpoint, or two to compare")
    flags = {
        "num_examples": "-n/--num-examples",
        "rollouts": "-r/--rollouts",
        "temperature": "--temperature",
        "max_tokens": "--max-tokens",
        "port": "--port",
    }
    try:
        settings = EvalSettings(env_id=args.env, **{key: getattr(args, key) for key in flags})
    except ValidationError as err:
        first = err.errors()[0]
        flag = flags.get(str(first["loc"][0]), str(first["loc"][0]))
        raise UserError(f"eval {flag} {first.get('input')!r}: {first['msg']}") from None
    evaluate_checkpoints(args.checkpoints, settings, args.output_dir)
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from dakota_rl.backends.prime_rl import setup

    return setup(args.prime_rl_dir, force=args.force)


def cmd_export(args: argparse.Namespace) -> int:
    from dakota_rl.backends.prime_rl import export

    out = export(args.run_dir, args.step, args.base_model, args.out)
    print(f"exported: {out}")
    return 0


def cmd_interp(argv: list[str]) -> int:
    try:
        from dakota_interp.cli import run as interp_run
    except ImportError as err:
        raise UserError(f"the interpretability module needs the `interp` extra ({err})") from err
    return interp_run(argv, prog="prime-rl interp") or 0


def run(argv: list[str]) -> int:
    """Parse and run one command; raises UserError / RunFailed (turned into exits by `main`)."""
    if argv[:1] == ["interp"]:
        return cmd_interp(argv[1:])
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command in ("train", "demo", "experiment"):
        return {"train": cmd_train, "demo": cmd_demo, "experiment": cmd_experiment}[args.command](args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return {"serve": cmd_serve, "eval": cmd_eval, "setup": cmd_setup, "export": cmd_export}[args.command](
        args
    )


def main(argv: list[str] | None = None) -> None:
    from dakota_rl.processes import handle_termination

    if (
        argv is None
    ):  # the `prime-rl` command itself (not a call from Python): glibc settings for CPU training
        from dakota_rl.malloc import reexec_with_tunables

        reexec_with_tunables("prime-rl")
    handle_termination()
    try:
        code = run(sys.argv[1:] if argv is None else argv)
    except UserError as err:
        print(f"prime-rl: error: {one_line(err)}", file=sys.stderr)
        code = 2
    except RunFailed as err:
        print(f"prime-rl: failed: {err}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("prime-rl: interrupted", file=sys.stderr)
        code = 130
    raise SystemExit(code)
