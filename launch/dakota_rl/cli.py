"""The `prime-rl` command: train | serve | eval | demo | experiment | setup | export | interp.

Heavy modules (torch, transformers, TRL) are imported inside the commands, so `--help` is instant.
User mistakes print one line `prime-rl: error: …` and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CONFIG_HELP = """\
config: prime-rl's TOML schema. `@ file.toml` (space after @; several files deep-merge left to right), then
dotted kebab-case overrides: --max-steps 5  --trainer.optim.lr 1e-6  --orchestrator.group-size 4
--local.lora.r 8 (booleans: --flag / --no-flag; lists: several values or JSON).
Local-backend-only settings live in a [local] table (configs/local/*.toml), stripped before prime-rl sees it."""

DEMO_CONFIGS = ["configs/dakota_smoke.toml", "configs/local/cpu.toml", "configs/local/demo.toml"]


class UserError(Exception):
    """Raised for bad input; `main` prints it as one line and exits 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prime-rl",
        description="Train, serve and evaluate small LMs on the Dakota grammar environments.",
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def run_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--output-dir", type=Path, default=None, help="parent of run folders (default: outputs)")
        p.add_argument("--run.name", "--run-name", dest="run_name", help="run folder name (default: W&B name)")
        p.add_argument("--resume", action="store_true", help="continue from the run's latest checkpoint")
        p.add_argument("--clean", action="store_true", help="delete an existing run folder first")
        p.add_argument("--dry-run", action="store_true", help="resolve and print the config, do not train")

    train = sub.add_parser(
        "train", help="train with GRPO (prime-rl on a GPU, or TRL locally)", allow_abbrev=False,
        epilog=CONFIG_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="prime-rl train @ CONFIG.toml [@ MORE.toml ...] [--dotted.key VALUE ...] [options]",
    )
    train.add_argument("--backend", choices=["auto", "local", "prime-rl"], default="auto",
                       help="auto: prime-rl when a CUDA GPU and a prime-rl checkout exist, else local (TRL)")
    run_flags(train)

    demo = sub.add_parser(
        "demo", help="the CPU main job: baseline eval → (SFT) → GRPO → eval → report", allow_abbrev=False,
        epilog=f"Runs train @ {' @ '.join(DEMO_CONFIGS)} plus before/after held-out evals.\n" + CONFIG_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run_flags(demo)

    experiment = sub.add_parser(
        "experiment", help="GRPO vs an SFT control from one SFT warm-up, paired held-out eval, report",
        allow_abbrev=False, usage="prime-rl experiment @ configs/experiments/grpo_vs_sft.toml [--seeds 0 1 ...]",
    )
    experiment.add_argument("--output-dir", type=Path, default=Path("outputs"), help="parent of the run folder")
    experiment.add_argument("--run.name", "--run-name", dest="run_name", default="grpo_vs_sft")
    experiment.add_argument("--clean", action="store_true", help="delete an existing run folder first")

    serve = sub.add_parser("serve", help="serve a checkpoint as an OpenAI-compatible endpoint on 127.0.0.1")
    serve.add_argument("checkpoint", help="HF folder (e.g. outputs/RUN/checkpoints/step_N) or model name")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--engine", choices=["auto", "transformers", "vllm"], default="auto")

    ev = sub.add_parser("eval", help="serve checkpoint(s), run vf-eval on the held-out split, write a report")
    ev.add_argument("checkpoints", nargs="+", help="one checkpoint, or two to compare side by side")
    ev.add_argument("--env", default="dakota_grammar_translation", help="environment id")
    ev.add_argument("-n", "--num-examples", type=int, default=20, help="held-out tasks")
    ev.add_argument("-r", "--rollouts", type=int, default=1, help="samples per task (pass@k when > 1)")
    ev.add_argument("--temperature", type=float, default=0.7)
    ev.add_argument("--max-tokens", type=int, default=64)
    ev.add_argument("--port", type=int, default=8000)
    ev.add_argument("--output-dir", type=Path, default=Path("outputs/eval"))

    setup = sub.add_parser("setup", help="prepare a prime-rl checkout at the pinned commit (GPU machines)")
    setup.add_argument("--prime-rl-dir", type=Path, default=None, help="checkout location ($PRIME_RL_DIR)")
    setup.add_argument("--force", action="store_true")

    sub.add_parser("interp", help="interpretability: Dakota vs math (`prime-rl interp --help`)", add_help=False)
    export = sub.add_parser("export", help="turn prime-rl weight broadcasts into HF checkpoints")
    export.add_argument("run_dir", type=Path)
    export.add_argument("--step", default="latest", help="step number, latest, or all")
    export.add_argument("--base-model", default=None, help="model whose config/tokenizer to copy")
    export.add_argument("--out", type=Path, default=None)
    return parser


def _backend(choice: str) -> str:
    if choice != "auto":
        return choice
    try:
        from dakota_rl.backends.prime_rl import available
    except ImportError:
        return "local"
    ok, reason = available()
    if not ok:
        print(f"backend: local (prime-rl not available: {reason})")
    return "prime-rl" if ok else "local"


def cmd_train(args: argparse.Namespace, config_tokens: list[str]) -> int:
    from dakota_rl.config import load_config

    if not any(t == "@" or t.startswith("@") for t in config_tokens):
        raise UserError("train needs a config: prime-rl train @ configs/dakota_smoke.toml")
    resolved = load_config(config_tokens)
    backend = _backend(args.backend)
    kwargs = dict(dry_run=args.dry_run, output_dir=args.output_dir, run_name=args.run_name,
                  resume=args.resume, clean=args.clean)
    if backend == "prime-rl":
        from dakota_rl.backends.prime_rl import train
    else:
        from dakota_rl.backends.local import train
    return train(resolved, **kwargs)


def cmd_demo(args: argparse.Namespace, config_tokens: list[str]) -> int:
    from dakota_rl.demo import run_demo

    tokens = [tok for path in DEMO_CONFIGS for tok in ("@", path)] + config_tokens
    return run_demo(tokens, output_dir=args.output_dir, run_name=args.run_name or "demo",
                    resume=args.resume, clean=args.clean, dry_run=args.dry_run)


def cmd_experiment(args: argparse.Namespace, config_tokens: list[str]) -> int:
    from dakota_rl.experiment import load_experiment, run_experiment

    run_experiment(load_experiment(config_tokens), args.output_dir / args.run_name, clean=args.clean)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dakota_rl.serve import serve_forever

    return serve_forever(args.checkpoint, port=args.port, engine=args.engine)


def cmd_eval(args: argparse.Namespace) -> int:
    from dakota_rl.evaluate import EvalSettings, evaluate_checkpoints

    if len(args.checkpoints) > 2:
        raise UserError("eval takes one checkpoint, or two to compare")
    settings = EvalSettings(env_id=args.env, num_examples=args.num_examples, rollouts=args.rollouts,
                            temperature=args.temperature, max_tokens=args.max_tokens, port=args.port)
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
        from dakota_interp.cli import main as interp_main
    except ImportError as err:
        raise UserError(f"the interpretability module needs the `interp` extra ({err})") from err
    return interp_main(argv) or 0


def run(argv: list[str]) -> int:
    if argv[:1] == ["interp"]:
        return cmd_interp(argv[1:])
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command in ("train", "demo", "experiment"):
        return {"train": cmd_train, "demo": cmd_demo, "experiment": cmd_experiment}[args.command](args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return {"serve": cmd_serve, "eval": cmd_eval, "setup": cmd_setup, "export": cmd_export}[args.command](args)


def main(argv: list[str] | None = None) -> None:
    from dakota_rl.config import ConfigError
    from dakota_rl.errors import RunFailed
    from dakota_rl.models import ModelNotFoundError

    try:
        code = run(sys.argv[1:] if argv is None else argv)
    except (UserError, ConfigError, ModelNotFoundError) as err:
        print(f"prime-rl: error: {err}", file=sys.stderr)
        code = 2
    except RunFailed as err:
        print(f"prime-rl: failed: {err}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("prime-rl: interrupted", file=sys.stderr)
        code = 130
    raise SystemExit(code)
