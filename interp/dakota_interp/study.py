"""The 2×2 study as one command: up to four models (training domain × base/RL), each on the same Dakota
and math tasks, one model in memory at a time, into one interactive HTML report and one markdown report.

    python -m dakota_interp view --models dakota-base=smollm2-135m-instruct \\
        --models dakota-rl=outputs/run/checkpoints/step_10 --n 32 --out docs/interp

Per model: greedy reasoning traces with attribution of the answer to prompt spans and reasoning (see
`trace`), attention statistics and the logit lens on the prompts (statistics computed in hooks), and the
viewer's per-example data for a sample of the tasks. An estimate of time and peak memory is printed before
anything runs.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dakota_rl.errors import UserError
from dakota_rl.files import write_atomic
from dakota_rl.safe_text import check_run_name

if TYPE_CHECKING:
    import torch

DOMAINS = ("dakota", "math")
STAGES = ("base", "sft", "rl")
DTYPES = {"bf16": "bfloat16", "fp32": "float32"}
"""--dtype choices → torch dtype names (torch is imported only when a study runs, so --help stays fast)."""


class StudyError(UserError):
    """Bad study input (a model argument, an option): the command line prints it as one line, exit 2."""


@dataclass
class ModelArg:
    """One model of the study: its label (e.g. `dakota-rl`), where it loads from, and its cell."""

    label: str
    source: str
    domain: str | None = None
    stage: str | None = None


def parse_models(values: Sequence[str]) -> list[ModelArg]:
    """`LABEL=MODEL` arguments (MODEL: a folder, alias or hub id). A label `<domain>-<stage>` with domain in
    dakota/math and stage in base/sft/rl places the model in the 2×2 (an SFT model stands in for the trained
    cell when there is no RL one); any other label is shown as is."""
    if not values:
        raise StudyError("give at least one --models LABEL=MODEL")
    if len(values) > 4:
        raise StudyError(f"at most four models (the 2×2), got {len(values)}")
    out: list[ModelArg] = []
    for value in values:
        label, sep, source = value.partition("=")
        if not sep or not label or not source:
            raise StudyError(
                f"--models {value!r}: expected LABEL=MODEL, e.g. dakota-base=smollm2-135m-instruct"
            )
        if label in {m.label for m in out}:
            raise StudyError(f"--models: label {label!r} given twice")
        try:  # a cache file name and HTML text: no '/', '..', quotes or spaces
            check_run_name(label, "--models label")
        except UserError as err:
            raise StudyError(str(err)) from None
        domain, _, stage = label.partition("-")
        cell = (domain, stage) if domain in DOMAINS and stage in STAGES else (None, None)
        out.append(ModelArg(label, source, *cell))
    return out


@dataclass
class Estimate:
    """Predicted cost of a study, printed before it starts."""

    seconds: float
    peak_bytes: float
    lines: list[str] = field(default_factory=list)


def model_shape(source: str) -> dict[str, int]:
    """Parameters, layers, heads and hidden size from a model's config (nothing loaded)."""
    from transformers import AutoConfig

    from dakota_interp.model import resolve

    try:
        cfg = AutoConfig.from_pretrained(resolve(source))
    except (
        OSError,
        ValueError,
        SystemExit,
    ) as exc:  # SystemExit: the launcher's resolver, for a missing folder
        raise StudyError(f"cannot read the config of model {source!r}: {str(exc).splitlines()[0]}") from None
    cfg = getattr(cfg, "text_config", cfg)
    d, n_layers = cfg.hidden_size, cfg.num_hidden_layers
    heads, kv = cfg.num_attention_heads, getattr(cfg, "num_key_value_heads", cfg.num_attention_heads)
    head_dim = getattr(cfg, "head_dim", None) or d // heads
    attn = d * head_dim * (2 * heads + 2 * kv)
    mlp = 3 * d * cfg.intermediate_size
    embed = cfg.vocab_size * d * (1 if getattr(cfg, "tie_word_embeddings", False) else 2)
    return {
        "params": n_layers * (attn + mlp) + embed,
        "layers": n_layers,
        "heads": heads,
        "hidden": d,
        "vocab": cfg.vocab_size,
    }


def matmul_flops_per_second(dtype: torch.dtype, seconds: float = 0.5) -> float:
    """This machine's dense matmul throughput in `dtype` (a short calibration)."""
    import torch

    a = torch.randn(512, 2048, dtype=dtype)
    b = torch.randn(2048, 2048, dtype=dtype)
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        a @ b
        done += 1
    return done * 2 * 512 * 2048 * 2048 / (time.perf_counter() - start)


def estimate(
    shapes: Sequence[Mapping[str, int]],
    n_tasks: int,
    n_view: int,
    max_new_tokens: int,
    dtype: torch.dtype,
    prompt_tokens: int = 120,
) -> Estimate:
    """Time and peak memory for the study from model shapes: FLOPs ≈ 2 × params per token forward (× 3 with
    the backward), at this machine's measured matmul speed; memory = the largest model's weights + one
    example's activations and eager attention (forward and backward)."""
    import torch

    speed = matmul_flops_per_second(dtype)
    size = torch.finfo(dtype).bits // 8
    total, peak, lines = 0.0, 0.0, []
    for s in shapes:
        t = prompt_tokens + max_new_tokens
        tokens = 2 * n_tasks * (prompt_tokens + max_new_tokens + 3 * t + 2 * prompt_tokens) + n_view * 2 * t
        seconds = 2 * s["params"] * tokens / speed
        weights = s["params"] * size
        activations = (
            s["layers"] * t * (s["heads"] * t * 3 * 4 + 16 * s["hidden"] * size) + t * s["vocab"] * 4
        )
        total += seconds
        peak = max(peak, weights + activations)
        lines.append(
            f"{s['params'] / 1e9:.2f}B parameters ({s['layers']} layers × {s['heads']} heads): "
            f"~{seconds / 60:.0f} min, weights {weights / 2**30:.1f} GiB + activations "
            f"{activations / 2**30:.2f} GiB"
        )
    lines.append(
        f"total ~{total / 60:.0f} min at {speed / 1e9:.0f} GFLOP/s measured here; peak memory "
        f"~{peak / 2**30:.1f} GiB"
    )
    return Estimate(total, peak, lines)


def analyse_model(
    arg: ModelArg,
    tasks: Mapping[str, Sequence[Mapping[str, Any]]],
    view_tasks: Sequence[Mapping[str, Any]],
    examples: dict[str, dict[str, Any]],
    *,
    dtype: torch.dtype,
    max_new_tokens: int,
    log: Any = print,
) -> dict[str, Any]:
    """Load one model, run every per-model analysis (`analyse_loaded`), free it."""
    from dakota_interp.model import load

    start = time.perf_counter()
    model, tok = load(arg.source, dtype=dtype)
    result = analyse_loaded(
        arg, model, tok, tasks, view_tasks, examples, max_new_tokens=max_new_tokens, log=log
    )
    result["seconds"] = time.perf_counter() - start
    del model
    gc.collect()
    return result


def analyse_loaded(
    arg: ModelArg,
    model: Any,
    tok: Any,
    tasks: Mapping[str, Sequence[Mapping[str, Any]]],
    view_tasks: Sequence[Mapping[str, Any]],
    examples: dict[str, dict[str, Any]],
    *,
    max_new_tokens: int,
    log: Any = print,
) -> dict[str, Any]:
    """Traces with attribution, attention statistics and the logit lens on `tasks` (one example at a time,
    statistics in hooks), and the viewer's data for `view_tasks` (added to `examples`)."""
    from dakota_interp import attention, lens, trace, viewer
    from dakota_interp.model import chat_text, encode, head_layout

    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for domain, ts in tasks.items():
        for i, task in enumerate(ts):
            rows.append(trace.trace_task(model, tok, task, max_new_tokens))
            log(f"  {arg.label}: {domain} trace {i + 1}/{len(ts)}")
    result: dict[str, Any] = {
        "label": arg.label,
        "source": arg.source,
        "domain": arg.domain,
        "stage": arg.stage,
        "layout": list(head_layout(model)),
        "traces": rows,
        "attention": {},
        "lens": {},
    }
    for domain, ts in tasks.items():
        if not ts:
            continue
        result["attention"][domain] = attention.attention_summary(
            model, [encode(tok, chat_text(tok, t)) for t in ts]
        )
        result["lens"][domain] = lens.lens_summary(model, tok, ts)
    viewer.collect_model(arg.label, model, tok, view_tasks, rows, examples)
    result["seconds"] = time.perf_counter() - start
    return result


def read_cache(path: Path) -> dict[str, Any] | None:
    """A model's cached results, or None when there are none (or the file is not a cache of ours)."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ours = isinstance(saved, dict) and {"source", "settings", "result", "examples"} <= saved.keys()
    return saved if ours else None


def run(args: Any, log: Any = print) -> list[str]:
    """The `view` command: estimate, analyse each model in turn, write report.html and study.md/json.

    Each model's results are cached under `<out>/cache/<label>.json` and reused when the model source and
    the settings are the same, so adding a model to a study reruns only that model."""
    import torch

    from dakota_interp.corpora import domains, slice_tasks

    models = parse_models(args.models)
    check_counts(args)
    dtype = getattr(torch, DTYPES[args.dtype])
    tasks = domains(args.n, args.split)
    view_tasks = [t for d in DOMAINS for t in slice_tasks(tasks[d], args.view)]
    est = estimate(
        [model_shape(m.source) for m in models], args.n, len(view_tasks), args.max_new_tokens, dtype
    )
    for line in ["estimate before starting:", *est.lines]:
        log(line)
    if args.estimate_only:
        return []
    examples: dict[str, dict[str, Any]] = {}
    results = []
    for m in models:
        result, mine = cached_analysis(m, args, tasks, view_tasks, dtype, log)
        results.append(result)
        merge_examples(examples, mine)
    return write_study(args, models, results, examples, len(view_tasks))


def check_counts(args: Any) -> None:
    """StudyError unless --n, --view and --max-new-tokens are at least 1."""
    for flag, value in (("--n", args.n), ("--view", args.view), ("--max-new-tokens", args.max_new_tokens)):
        if value < 1:
            raise StudyError(f"{flag} {value}: must be at least 1")


def study_settings(args: Any) -> dict[str, Any]:
    """The settings a cached result must share to be reused."""
    return {
        "n": args.n,
        "view": args.view,
        "split": args.split,
        "max_new_tokens": args.max_new_tokens,
        "dtype": args.dtype,
    }


def cached_analysis(
    m: ModelArg,
    args: Any,
    tasks: Mapping[str, Sequence[Mapping[str, Any]]],
    view_tasks: Sequence[Mapping[str, Any]],
    dtype: torch.dtype,
    log: Any,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """One model's (result, viewer examples): from `<out>/cache/<label>.json` when the source and settings
    match, else analysed now and cached."""
    from dakota_interp.report import json_safe

    settings = study_settings(args)
    cache = args.out / "cache" / f"{m.label}.json"
    saved = read_cache(cache)
    if saved and saved.get("source") == m.source and saved.get("settings") == settings:
        log(f"{m.label}: reusing {cache} (same model and settings)")
        return saved["result"], saved["examples"]
    mine: dict[str, dict[str, Any]] = {}
    result = analyse_model(
        m, tasks, view_tasks, mine, dtype=dtype, max_new_tokens=args.max_new_tokens, log=log
    )
    write_atomic(
        cache,
        json.dumps(
            {
                "source": m.source,
                "settings": settings,
                "result": json_safe(result),
                "examples": json_safe(mine),
            }
        ),
    )
    return result, mine


def merge_examples(examples: dict[str, dict[str, Any]], mine: Mapping[str, Mapping[str, Any]]) -> None:
    """Add one model's views and traces of each example to the study's."""
    for key, ex in mine.items():
        merged = examples.setdefault(key, {**ex, "views": {}, "traces": {}})
        merged["views"].update(ex["views"])
        merged["traces"].update(ex["traces"])


def write_study(
    args: Any,
    models: Sequence[ModelArg],
    results: Sequence[Mapping[str, Any]],
    examples: Mapping[str, Any],
    n_view: int,
) -> list[str]:
    """report.html, study.md and study.json under --out; the markdown lines and what was written."""
    from dakota_interp import study_report, viewer

    labels = [m.label for m in models]
    about = (
        f"{args.n} Dakota and {args.n} math {args.split} tasks per model ({n_view} shown with "
        f"attention); models: " + ", ".join(f"{m.label} = {m.source}" for m in models) + "."
    )
    html = viewer.render(
        "Dakota vs math: watch the model", about, labels, examples, {r["label"]: r["traces"] for r in results}
    )
    args.out.mkdir(parents=True, exist_ok=True)
    viewer.write(args.out / "report.html", html)
    lines = study_report.markdown(results, about)
    (args.out / "study.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (args.out / "study.json").write_text(json.dumps(study_report.numbers(results), indent=1) + "\n")
    return [
        *lines,
        f"written: {args.out / 'report.html'} ({len(html) / 1e6:.1f} MB), {args.out / 'study.md'}",
    ]


def add_parser(sub: Any, default_out: Path) -> None:
    """The `view` subcommand."""
    p = sub.add_parser("view", help="interactive HTML report + the Dakota-vs-math × base-vs-RL study")
    p.add_argument(
        "--models",
        action="append",
        default=[],
        metavar="LABEL=MODEL",
        help="up to four; labels dakota-base, dakota-rl, math-base, math-rl place a model in the 2×2",
    )
    p.add_argument(
        "--n", type=int, default=16, help="tasks per domain for traces and statistics (default 16)"
    )
    p.add_argument("--view", type=int, default=4, help="tasks per domain shown with attention (default 4)")
    p.add_argument("--max-new-tokens", type=int, default=64, help="generation length of a trace (default 64)")
    p.add_argument("--dtype", default="fp32", choices=sorted(DTYPES), help="weights (bf16 for 4B on 24 GB)")
    p.add_argument("--split", default="heldout", choices=["train", "heldout"])
    p.add_argument("--out", type=Path, default=default_out)
    p.add_argument("--estimate-only", action="store_true", help="print the estimate and stop")
    p.set_defaults(func=run)
