"""`python -m dakota_interp` (also `prime-rl interp`): tokenizer fertility, attention, logit lens, head
ablation, activation patching and checkpoint diffs on any Hugging Face causal LM, Dakota versus math.

Every subcommand writes its numbers as JSON (and heatmaps as PNG) into --out; `report` runs them all and
writes report.md. Models: a local folder, `smollm2-135m-instruct` (offline), or a hub id.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dakota_interp.tokenizer import QWEN3_ALIAS
from dakota_rl.errors import ArgumentParser, UserError, one_line

DEFAULT_OUT = Path("outputs/interp")
EXACT_ALL_UP_TO = 64
"""Models with at most this many heads have every head ablated/patched exactly by default; larger ones are
screened by attribution patching and the top --exact heads per domain confirmed exactly."""


def cmd_fertility(args: argparse.Namespace) -> list[str]:
    from dakota_interp import report
    from dakota_interp.corpora import dakota_gloss_pairs, math_lines
    from dakota_interp.tokenization import fertility_report, orthography_letters
    from dakota_interp.tokenizer import load_tokenizer

    dakota, english, source = dakota_gloss_pairs(args.split)
    corpora = {"dakota": dakota, "english_gloss": english, "math": math_lines(args.split)}
    lines = [
        f"Dakota text: {len(dakota)} distinct forms from {source}; math: the shipped {args.split} prompts.",
        "",
    ]
    results = {}
    for name in args.tokenizer:
        tok = load_tokenizer(name)
        res = fertility_report(tok, corpora, orthography_letters())
        results[name] = res
        lines += [*report.fertility_lines(res), "", *report.letter_table_markdown(res["letters"]), ""]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fertility.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    (args.out / "fertility.md").write_text("# Tokenizer fertility\n\n" + "\n".join(lines) + "\n")
    return lines


def _model_sections(args: argparse.Namespace, which: Sequence[str]) -> dict[str, Any]:
    from dakota_interp import report
    from dakota_interp.corpora import domains, morphology_tasks, slice_tasks
    from dakota_interp.model import head_layout, load

    model, tok = load(args.model)
    tasks = domains(args.n, args.split)
    n_layers, n_heads, _, _ = head_layout(model)
    exact = args.exact if args.exact is not None else (0 if n_layers * n_heads <= EXACT_ALL_UP_TO else 8)
    sections: dict[str, Any] = {}
    if "attention" in which:
        sections["Attention"] = report.attention_section(model, tok, tasks, args.out)
    if "lens" in which:
        sections["Logit lens"] = report.lens_section(model, tok, tasks, args.out)
    if "ablate" in which:
        gen = {k: v[: args.generate] for k, v in tasks.items()} if args.generate else None
        sections["Head ablation"] = report.ablation_section(
            model, tok, tasks, args.out, mode=args.mode, top=args.top, exact=exact or None, generate=gen
        )
    if "patch" in which:
        sections["Activation patching"] = report.patching_section(
            model, tok, morphology_tasks(args.split), args.out, pairs=args.pairs, exact=exact or None
        )
    if "diff" in which and args.trained:
        trained, _ = load(args.trained)
        sections["Base vs trained"] = report.diff_section(
            model, trained, tok, slice_tasks([*tasks["dakota"], *tasks["math"]], args.n), args.out
        )
    return sections


def cmd_analysis(args: argparse.Namespace) -> list[str]:
    from dakota_interp import report

    if getattr(args, "models", None):
        from dakota_interp import study

        return study.run(
            argparse.Namespace(
                models=args.models,
                n=args.n,
                view=min(4, args.n),
                max_new_tokens=64,
                dtype=args.dtype,
                split=args.split,
                out=args.out,
                estimate_only=False,
            )
        )
    which = ["attention", "lens", "ablate", "patch", "diff"] if args.command == "report" else [args.command]
    sections = _model_sections(args, which)
    preamble = [
        f"Model `{args.model}`"
        + (f" vs trained `{args.trained}`" if args.trained else "")
        + f"; {args.n} Dakota and {args.n} math {args.split} tasks (balanced over difficulty bands)."
    ]
    path = report.write_report(args.out, "Dakota vs math: interpretability report", sections, preamble)
    return [*preamble, *(line for _, lines in sections.values() for line in lines), f"written: {path}"]


def cmd_math_tasks(args: argparse.Namespace) -> list[str]:
    from dakota_interp import math_tasks

    code = math_tasks.main(["--check"] if args.check else [])
    if code:
        raise SystemExit(code)
    return []


def build_parser(prog: str = "dakota-interp") -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=prog, description=" ".join(__doc__.split("\n\n")[0].split()))
    sub = parser.add_subparsers(dest="command", required=True)

    fert = sub.add_parser("fertility", help="tokens per word/character and special-letter splits")
    fert.add_argument(
        "--tokenizer", action="append", help="qwen3 (default), a model folder or hub id; repeatable"
    )
    fert.add_argument("--split", default="heldout", choices=["train", "heldout"])
    fert.add_argument("--out", type=Path, default=DEFAULT_OUT)
    fert.set_defaults(func=cmd_fertility)

    helps = {
        "attention": "per-head entropy, sink mass and attention to special-letter tokens",
        "lens": "logit lens: rank of the gold's first token per layer",
        "ablate": "ablate each head; proxy scan + reward check by generation",
        "patch": "activation patching on minimal affix pairs",
        "diff": "base vs trained: weight change per head, CKA per layer (needs --trained)",
        "report": "all of the above + report.md",
    }
    for name, text in helps.items():
        p = sub.add_parser(name, help=text)
        p.add_argument("--model", default="smollm2-135m-instruct", help="model folder, alias or hub id")
        p.add_argument("--trained", help="a trained checkpoint of the same architecture (diff)")
        p.add_argument("--n", type=int, default=16, help="tasks per domain (default 16)")
        p.add_argument("--split", default="heldout", choices=["train", "heldout"])
        p.add_argument("--mode", default="mean", choices=["mean", "zero"], help="ablation (default mean)")
        p.add_argument("--top", type=int, default=3, help="heads per dissociation list (default 3)")
        p.add_argument(
            "--generate",
            type=int,
            default=8,
            help="tasks per domain for the generation reward check (0 = skip; default 8)",
        )
        p.add_argument("--pairs", type=int, default=4, help="minimal pairs to patch (default 4)")
        p.add_argument(
            "--exact",
            type=int,
            help="heads per domain confirmed exactly after attribution "
            f"screening; 0 = every head exactly (default: 0 up to {EXACT_ALL_UP_TO} heads, else 8)",
        )
        p.add_argument("--out", type=Path, default=DEFAULT_OUT)
        if name == "report":
            p.add_argument(
                "--models",
                action="append",
                metavar="LABEL=MODEL",
                help="the 2×2 study instead (up to four; see `view`): report.html + study.md",
            )
            p.add_argument("--dtype", default="fp32", choices=["bf16", "fp32"], help="weights for --models")
        p.set_defaults(func=cmd_analysis)

    from dakota_interp import study

    study.add_parser(sub, DEFAULT_OUT)
    math = sub.add_parser("math-tasks", help="(re)build the shipped math task set; --check compares bytes")
    math.add_argument("--check", action="store_true")
    math.set_defaults(func=cmd_math_tasks)
    return parser


def run(argv: Sequence[str] | None = None, prog: str = "dakota-interp") -> int:
    """Parse, run one subcommand, print its findings; bad input raises UserError."""
    args = build_parser(prog).parse_args(argv)
    if args.command == "fertility" and not args.tokenizer:
        args.tokenizer = [QWEN3_ALIAS]
    if args.command == "diff" and not args.trained:
        raise UserError("diff needs --trained PATH (a checkpoint of the same architecture as --model)")
    for line in args.func(args):
        print(line)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `run`, with bad input as one line `dakota-interp: error: …` and exit 2."""
    try:
        return run(argv)
    except UserError as err:
        print(f"dakota-interp: error: {one_line(err)}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    sys.exit(main())
