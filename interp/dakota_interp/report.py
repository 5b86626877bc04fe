"""Run the analyses, write every figure's numbers as JSON, layer × head heatmaps as PNG, and a markdown
report that states the findings in sentences with numbers.

Each `*_section` function returns (data for JSON, markdown lines); `write_report` puts them together.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from dakota_interp import ablation, attention, diff, lens, patching
from dakota_interp.model import chat_text, encode, head_layout

Section = tuple[dict[str, Any], list[str]]


def heatmap(matrix: Sequence[Sequence[float]], title: str, path: Path, *, center: bool = False) -> Path:
    """A layer × head heatmap as PNG (diverging colours around 0 when `center`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = torch.tensor(matrix, dtype=torch.float32)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * data.shape[1] + 2), max(3.0, 0.22 * data.shape[0] + 1.5)))
    if center:
        lim = float(data.nan_to_num(0.0).abs().max()) or 1.0
        im = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    else:
        im = ax.imshow(data, cmap="viridis", aspect="auto")
    ax.set(xlabel="head", ylabel="layer", title=title)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _argmax(matrix: Sequence[Sequence[float]], largest: bool = True) -> tuple[int, int, float]:
    t = torch.tensor(matrix, dtype=torch.float32)
    fill = float("-inf") if largest else float("inf")
    i = int(t.nan_to_num(fill).argmax() if largest else t.nan_to_num(fill).argmin())
    return i // t.shape[1], i % t.shape[1], float(t.flatten()[i])


def _mean(matrix: Sequence[Sequence[float]]) -> float:
    return float(torch.tensor(matrix, dtype=torch.float32).nanmean())


def json_safe(obj: Any) -> Any:
    """`obj` with NaN and infinities replaced by None (strict JSON)."""
    if isinstance(obj, float):
        return obj if obj == obj and abs(obj) != float("inf") else None
    if isinstance(obj, Mapping):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def fertility_lines(report: Mapping[str, Any]) -> list[str]:
    """Sentences for a fertility report (see `tokenization.fertility_report`)."""
    c = report["corpora"]
    d = c["dakota"]
    lines = [
        f"Tokenizer `{report['tokenizer']}` (vocabulary {report['vocab_size']:,}, normaliser "
        f"{report['normalizer']}):",
        f"- Dakota ({d['lines']} texts, {d['words']} words) costs **{d['tokens_per_word']:.2f} tokens per "
        f"word** ({d['chars_per_token']:.2f} characters and {d['bytes_per_token']:.2f} bytes per token; "
        f"{100 * d['fragment_share']:.1f}% of tokens are byte fragments).",
    ]
    for name, label in (
        ("english_gloss", "its English glosses"),
        ("math", "math prompts"),
        ("dakota_stripped", "the same Dakota with diacritics stripped"),
        ("dakota_nfd_no_normalizer", "the same Dakota in NFD with the normaliser removed"),
        ("dakota_nfd_with_normalizer", "NFD input through the tokenizer's own normaliser"),
    ):
        if name in c:
            x = c[name]
            lines.append(
                f"- {label[0].upper() + label[1:]}: {x['tokens_per_word']:.2f} tokens per word, "
                f"{x['chars_per_token']:.2f} characters per token, {100 * x['fragment_share']:.1f}% "
                f"byte fragments ({x['tokens_per_word'] / d['tokens_per_word']:.2f}× Dakota's rate)."
            )
    rt = report["nfd_roundtrip_to_nfc"]
    lines.append(
        f"- Decoding the tokens of NFD input gives back NFC text for {rt['equal']}/{rt['lines']} texts."
    )
    corpus = report["letters_in_corpus"]
    for position, counts in corpus["totals"].items():
        total = sum(counts.values())
        if total:
            lines.append(
                f"- {position.replace('_', '-')} special letters ({total} occurrences): "
                + ", ".join(f"{100 * counts[k] / total:.1f}% {k}" for k in counts)
                + "."
            )
    if corpus["words_with_split_first_letter"]:
        lines.append(
            f"- {corpus['words_with_split_first_letter']} words start with a byte-split letter, e.g. "
            + ", ".join(corpus["examples_split_first_letter"][:6])
            + "."
        )
    worst = [r["letter"] for r in report["letters"] if r["word_initial"]["tokens"] >= 3]
    if worst:
        lines.append(f"- After a space, {', '.join(worst)} each take 3 or more tokens.")
    return lines


def letter_table_markdown(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The per-letter × context table as markdown."""
    out = [
        "| letter | code points | alone | word-initial (after a space) | mid-word |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [f"{r[c]['tokens']} ({r[c]['kind']})" for c in ("alone", "word_initial", "mid_word")]
        out.append(f"| {r['letter']} | {r['codepoints']} | " + " | ".join(cells) + " |")
    return out


def attention_section(
    model: Any, tokenizer: Any, domains: Mapping[str, Sequence[Mapping]], out: Path
) -> Section:
    """Entropy, sink mass and token-class attention per domain, with heatmaps."""
    data = {
        name: attention.attention_summary(model, [encode(tokenizer, chat_text(tokenizer, t)) for t in tasks])
        for name, tasks in domains.items()
    }
    lines = []
    for name, s in data.items():
        heatmap(s["entropy_norm"], f"normalised attention entropy ({name})", out / f"entropy_{name}.png")
        heatmap(s["sink_mass"], f"attention sink mass ({name})", out / f"sink_{name}.png")
        lines.append(
            f"- {name}: {s['prompts']} prompts of {s['tokens_per_prompt']:.0f} tokens on average; mean "
            f"normalised entropy {_mean(s['entropy_norm']):.3f}, mean sink mass {_mean(s['sink_mass']):.3f}."
        )
        for cls in ("dakota_special", "byte_fragment", "digit"):
            if f"{cls}_ratio" in s:
                layer, head, ratio = _argmax(s[f"{cls}_ratio"])
                heatmap(
                    s[f"{cls}_ratio"], f"attention to {cls} / uniform ({name})", out / f"{cls}_{name}.png"
                )
                lines.append(
                    f"  - attention on {cls} tokens: {_mean(s[f'{cls}_ratio']):.2f}× the uniform baseline "
                    f"on average over heads; the strongest head is L{layer}.H{head} at {ratio:.2f}×."
                )
    if {"dakota", "math"} <= data.keys():
        delta = (
            torch.tensor(data["dakota"]["entropy_norm"]) - torch.tensor(data["math"]["entropy_norm"])
        ).tolist()
        heatmap(
            delta, "normalised entropy, Dakota − math", out / "entropy_dakota_minus_math.png", center=True
        )
        layer, head, hi = _argmax(delta)
        layer2, head2, lo = _argmax(delta, largest=False)
        lines.append(
            f"- Dakota − math normalised entropy: mean {_mean(delta):+.3f}; most diffuse on Dakota relative "
            f"to math L{layer}.H{head} ({hi:+.3f}), most focused L{layer2}.H{head2} ({lo:+.3f})."
        )
        data["entropy_norm_dakota_minus_math"] = delta
    return data, lines


def lens_section(model: Any, tokenizer: Any, domains: Mapping[str, Sequence[Mapping]], out: Path) -> Section:
    """Logit lens per domain."""
    n_layers = head_layout(model)[0]
    data, lines = {}, []
    for name, tasks in domains.items():
        s = lens.lens_summary(model, tokenizer, tasks)
        data[name] = s
        if not s["tasks"]:
            continue
        where = (
            f"it first becomes top-1 at layer {s['first_top1_layer_mean']:.1f} on average (0 = embeddings, "
            f"{n_layers} = output)"
            if s["first_top1_layer_mean"] is not None
            else "it is top-1 at no layer"
        )
        lines.append(
            f"- {name}: the gold answer's first token is the top-1 prediction at the output for "
            f"{100 * s['final_top1_rate']:.0f}% of {s['tasks']} tasks; {where}; median rank at the "
            f"output {s['median_rank'][-1]:.0f}, at mid-depth {s['median_rank'][n_layers // 2]:.0f}."
        )
    _lens_plot(data, out / "lens_rank.png")
    return data, lines


def _lens_plot(data: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, s in data.items():
        if s.get("tasks"):
            ax.plot(s["mean_log_rank"], label=name)
    ax.set(xlabel="layer (0 = embeddings)", ylabel="mean log(1 + rank) of gold token", title="logit lens")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ablation_section(
    model: Any,
    tokenizer: Any,
    domains: Mapping[str, Sequence[Mapping]],
    out: Path,
    *,
    mode: str = "mean",
    top: int = 3,
    exact: int | None = None,
    generate: Mapping[str, Sequence[Mapping]] | None = None,
) -> Section:
    """Every head ablated per domain (exactly, or screened by attribution and the `exact` strongest
    candidates of each domain confirmed exactly), the double dissociation, and a reward check by
    generation for the heads of each dissociation list."""
    data: dict[str, Any] = {"mode": mode}
    n_layers, n_heads, _, _ = head_layout(model)
    batches = {name: ablation.GoldBatch(tokenizer, tasks) for name, tasks in domains.items()}
    means = {name: ablation.head_means(model, b) if mode == "mean" else None for name, b in batches.items()}
    heads = None
    if exact is not None:
        heads, screened = _screened_heads(model, batches, means, exact, n_heads)
        data.update(screened)
    maps = {name: ablation.proxy_scan(model, batch, means[name], heads) for name, batch in batches.items()}
    lines = [_ablation_method_line(mode, n_layers * n_heads, heads, exact)]
    for name, scan in maps.items():
        found, more = _domain_ablation(name, scan, mode, heads, n_heads, data.get(f"attribution_{name}"), out)
        data.update(found)
        lines += more
    if {"dakota", "math"} <= maps.keys():
        found, more = _dissociation(maps, heads, top, data)
        data.update(found)
        lines += more
    if generate:
        data["reward_check"] = _reward_check(model, tokenizer, generate, data.get("dissociation", {}), means)
        lines += [_reward_check_line(row) for row in data["reward_check"]]
    return data, lines


def _screened_heads(
    model: Any,
    batches: Mapping[str, ablation.GoldBatch],
    means: Mapping[str, torch.Tensor | None],
    exact: int,
    n_heads: int,
) -> tuple[list[tuple[int, int]], dict[str, Any]]:
    """Attribution patching over every head per domain; the `exact` strongest heads of each domain (their
    union, sorted) to measure exactly, and the estimates as JSON data."""
    data: dict[str, Any] = {}
    candidates: set[tuple[int, int]] = set()
    for name, batch in batches.items():
        estimate = ablation.attribution_scan(model, batch, means[name])
        data[f"attribution_{name}"] = estimate.tolist()
        candidates |= {
            (int(i) // n_heads, int(i) % n_heads) for i in estimate.abs().flatten().topk(exact).indices
        }
    heads = sorted(candidates)
    data["exact_heads"] = [list(h) for h in heads]
    return heads, data


def _ablation_method_line(
    mode: str, total: int, heads: Sequence[tuple[int, int]] | None, exact: int | None
) -> str:
    """The report's first ablation sentence: how heads were ablated, scored and which were measured."""
    measured = (
        f"all {total} heads measured exactly."
        if heads is None
        else f"all {total} heads screened by attribution patching, the {len(heads)} strongest "
        f"candidates ({exact} per domain) measured exactly."
    )
    return (
        f"- {mode} ablation of one head at a time, scored by the change in the gold answer's mean per-token "
        f"log-prob (teacher forced); " + measured
    )


def _domain_ablation(
    name: str,
    scan: torch.Tensor,
    mode: str,
    heads: Sequence[tuple[int, int]] | None,
    n_heads: int,
    attribution: Sequence[Sequence[float]] | None,
    out: Path,
) -> Section:
    """One domain's ablation map: its heatmap, its most harmful head and, when heads were screened, how
    well attribution ranked the measured ones."""
    data: dict[str, Any] = {f"proxy_{name}": scan.tolist()}
    heatmap(
        scan.tolist(),
        f"Δ gold log-prob, {mode}-ablating one head ({name})",
        out / f"ablation_{name}.png",
        center=True,
    )
    layer, head, worst = _argmax(scan.tolist(), largest=False)
    lines = [
        f"- {name}: measured heads change the gold log-prob by {float(scan.nanmean()):+.3f} on average; "
        f"the most harmful to ablate is L{layer}.H{head} ({worst:+.3f})."
    ]
    if heads is not None:
        idx = torch.tensor([h * n_heads + k for h, k in heads])
        rho = _spearman(torch.tensor(attribution).flatten()[idx], scan.flatten()[idx])
        data[f"attribution_vs_exact_spearman_{name}"] = rho
        lines.append(f"  - attribution vs exact on the candidates: Spearman ρ = {rho:.2f}.")
    return data, lines


def _dissociation(
    maps: Mapping[str, torch.Tensor],
    heads: Sequence[tuple[int, int]] | None,
    top: int,
    screened: Mapping[str, Any],
) -> Section:
    """How head importance for Dakota and math correlate (over the attribution estimates when heads were
    screened) and the `top` heads that matter for one domain and not the other."""
    d, m = maps["dakota"].nan_to_num(0.0), maps["math"].nan_to_num(0.0)
    rho = (
        _spearman(d.flatten(), m.flatten())
        if heads is None
        else _spearman(
            torch.tensor(screened["attribution_dakota"]).flatten(),
            torch.tensor(screened["attribution_math"]).flatten(),
        )
    )
    data = {"spearman_dakota_math": rho, "dissociation": ablation.dissociation(d, m, k=top)}
    lines = [
        f"- Head importance for Dakota and math is correlated with Spearman ρ = {rho:.2f} over all heads"
        + (" (attribution estimates)." if heads is not None else ".")
    ]
    for key, label in (
        ("dakota_not_math", "Dakota and not math"),
        ("math_not_dakota", "math and not Dakota"),
    ):
        lines.append(_heads_that_matter_line(label, data["dissociation"][key]))
    return data, lines


def _heads_that_matter_line(label: str, found: Sequence[Mapping[str, Any]]) -> str:
    listed = (
        ", ".join(
            f"L{h['layer']}.H{h['head']} (Dakota {h['dakota']:+.3f}, math {h['math']:+.3f})" for h in found
        )
        if found
        else "none among the measured heads"
    )
    return f"- Heads that matter for {label}: {listed}."


def _reward_check_line(row: Mapping[str, Any]) -> str:
    return (
        f"  - reward check ({row['domain']}, {row['tasks']} tasks): {row['heads']}: "
        f"{row['base']:.3f} → {row['ablated']:.3f} (Δ {row['delta']:+.3f}, 95% CI "
        f"[{row['ci'][0]:+.3f}, {row['ci'][1]:+.3f}])."
    )


def _reward_check(
    model: Any,
    tokenizer: Any,
    tasks: Mapping[str, Sequence[Mapping]],
    dissociation: Mapping,
    means: Mapping[str, torch.Tensor | None],
) -> list[dict]:
    rows = []
    base = {name: ablation.mean_reward(model, tokenizer, t) for name, t in tasks.items()}
    for key, heads in dissociation.items():
        chosen = [(h["layer"], h["head"]) for h in heads]
        if not chosen:
            continue
        for name, t in tasks.items():
            mean_vec = means.get(name)
            score, per = ablation.mean_reward(model, tokenizer, t, chosen, mean_vec)
            deltas = [a - b for a, b in zip(per, base[name][1], strict=True)]
            rows.append(
                {
                    "domain": name,
                    "heads": f"{key} heads " + " ".join(f"L{a}.H{b}" for a, b in chosen),
                    "tasks": len(t),
                    "base": base[name][0],
                    "ablated": score,
                    "delta": score - base[name][0],
                    "ci": ablation.bootstrap_ci(deltas),
                }
            )
    return rows


def _spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    ra = a.argsort().argsort().double()
    rb = b.argsort().argsort().double()
    return float(torch.corrcoef(torch.stack([ra, rb]))[0, 1])


def patching_section(
    model: Any,
    tokenizer: Any,
    tasks: Sequence[Mapping],
    out: Path,
    *,
    pairs: int = 4,
    exact: int | None = None,
) -> Section:
    """Residual and head patching on minimal pairs from the morphology tasks."""
    found = patching.minimal_pairs(tokenizer, tasks, limit=pairs)
    if not found:
        return {"pairs": []}, ["- No minimal pair with equal token lengths was found in the task slice."]
    results = [patching.patch_pair(model, p, exact) for p in found]
    heads = torch.tensor([r["heads"] for r in results]).nanmean(0)
    heatmap(
        heads.tolist(),
        "head patching, normalised effect (mean over pairs)",
        out / "patch_heads.png",
        center=True,
    )
    last = torch.tensor([[row[-1] for row in r["residual"]] for r in results]).mean(0)
    differing = torch.tensor([[row[0] for row in r["residual"]] for r in results]).mean(0)
    layer = int((last > 0.5).float().argmax()) if bool((last > 0.5).any()) else None
    early = int((differing > 0.5).float().argmin()) if bool((differing > 0.5).any()) else None
    top_layer, top_head, effect = _argmax(heads.tolist())
    lines = [
        f"- {len(found)} minimal pairs (affix swaps: "
        + ", ".join("/".join(r["affixes"]) for r in results)
        + ").",
        f"- Patching the residual stream at the final position restores more than half of the clean logit "
        f"difference from layer {layer} on."
        if layer is not None
        else "- Patching the residual stream at the final position never restores half of the "
        "logit difference.",
        f"- Patching the differing prompt tokens restores {differing[0]:+.2f} of it after layer 0, "
        f"{differing[len(differing) // 2]:+.2f} at mid-depth and {differing[-1]:+.2f} after the last layer"
        + (f" (below half from layer {early} on)." if early is not None and early > 0 else "."),
        f"- The single head whose patched output restores most is L{top_layer}.H{top_head} ({effect:+.2f}).",
    ]
    return {
        "pairs": results,
        "head_mean": heads.tolist(),
        "last_position_by_layer": last.tolist(),
        "differing_positions_by_layer": differing.tolist(),
    }, lines


def diff_section(base: Any, trained: Any, tokenizer: Any, tasks: Sequence[Mapping], out: Path) -> Section:
    """Weight change per head / layer and per-layer CKA between two checkpoints."""
    changes = diff.weight_changes(base, trained)
    encs = [encode(tokenizer, chat_text(tokenizer, t)) for t in tasks]
    cka = diff.cka_per_layer(base, trained, encs)
    heatmap(
        changes["head_rel_change"], "‖ΔW‖/‖W‖ per query head (q rows + o columns)", out / "diff_heads.png"
    )
    layer, head, top = _argmax(changes["head_rel_change"])
    mlp = changes["mlp_rel_change"]
    lines = [
        f"- Largest per-head relative weight change: L{layer}.H{head} ({top:.2e}); median head "
        f"{statistics.median(x for row in changes['head_rel_change'] for x in row):.2e}; MLP per layer "
        f"median {statistics.median(mlp):.2e}, max {max(mlp):.2e} (layer {mlp.index(max(mlp))}).",
        f"- Share of weights that changed at all: {100 * statistics.mean(changes['changed_fraction']):.1f}% "
        f"on average per layer.",
        f"- Linear CKA between base and trained residual streams: min {min(cka):.4f} (layer "
        f"{cka.index(min(cka))}), mean {statistics.mean(cka):.4f}.",
    ]
    return {**changes, "cka": cka}, lines


def write_report(
    out: Path, title: str, sections: Mapping[str, Section], preamble: Sequence[str] = ()
) -> Path:
    """results.json (all sections' data) and report.md (all sections' sentences)."""
    out.mkdir(parents=True, exist_ok=True)
    results = json_safe({k: v[0] for k, v in sections.items()})
    (out / "results.json").write_text(
        json.dumps(results, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    )
    lines = [f"# {title}", "", *preamble, ""]
    for name, (_, sentences) in sections.items():
        lines += [f"## {name}", "", *sentences, ""]
    pngs = sorted(p.name for p in out.glob("*.png"))
    if pngs:
        lines += ["## Figures", "", *(f"![{p}]({p})" for p in pngs), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
