"""The interactive report: one self-contained HTML file (inline JavaScript and CSS, no network) where a
person picks an example, a model, a layer and a head, and watches attention, the logit lens and the
reasoning trace's attribution; summary heatmaps link back to the examples behind them.

`collect_model` gathers one model's part (call it once per model, so only one model is in memory);
`render` fills `viewer.html` with the data.
"""

from __future__ import annotations

import html as html_lib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dakota_interp import trace, viewer_data
from dakota_interp.report import json_safe

TEMPLATE = Path(__file__).with_name("viewer.html")
TRACE_FIELDS = (
    "attributed",
    "reward",
    "answer_tagged",
    "tokens",
    "labels",
    "fragments",
    "answer_positions",
    "rollout",
    "input_x_grad",
    "rollout_spans",
    "input_x_grad_spans",
    "generation",
)
"""What the viewer needs of a trace row (see `trace.trace_task`)."""


def _round(values: Sequence[float], digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in values]


def view_record(model: Any, tokenizer: Any, task: Mapping[str, Any]) -> dict[str, Any] | None:
    """The viewer's per-model data for one example: tokens, flags, labels, packed attention, lens ranks."""
    tokens = viewer_data.example_tokens(tokenizer, task)
    if tokens is None:
        return None
    ids = tokens.pop("_ids")
    meta = {k: tokens.pop(k) for k in ("id", "domain", "family", "difficulty", "prompt", "answer")}
    return {
        "meta": meta,
        **tokens,
        **viewer_data.model_view(model, tokenizer, task, ids, tokens["first_query"]),
    }


def trace_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A trace row trimmed to what the viewer shows, with shares rounded."""
    out = {k: row[k] for k in TRACE_FIELDS if k in row}
    for key in ("rollout", "input_x_grad"):
        if key in out:
            out[key] = _round(out[key])
    return out


def collect_model(
    label: str,
    model: Any,
    tokenizer: Any,
    view_tasks: Sequence[Mapping[str, Any]],
    traces: Sequence[Mapping[str, Any]],
    examples: dict[str, dict[str, Any]],
) -> None:
    """Add one model's views and traces of the `view_tasks` to `examples` (keyed by task id)."""
    by_id = {r["id"]: r for r in traces}
    for task in view_tasks:
        rec = view_record(model, tokenizer, task)
        if rec is None:
            continue
        ex = examples.setdefault(task["id"], {**rec.pop("meta"), "views": {}, "traces": {}})
        rec.pop("meta", None)
        ex["views"][label] = rec
        if task["id"] in by_id:
            ex["traces"][label] = trace_record(by_id[task["id"]])


def span_summary(traces_by_model: Mapping[str, Sequence[Mapping[str, Any]]]) -> tuple[dict, dict]:
    """Per model, method, domain and span: [mean, CI low, CI high] over examples; and example counts."""
    table = {
        m: {method: trace.span_table(rows, method) for method in ("input_x_grad", "rollout")}
        for m, rows in traces_by_model.items()
    }
    counts = {
        m: {d: sum(1 for r in rows if r["domain"] == d and r.get("attributed")) for d in ("dakota", "math")}
        for m, rows in traces_by_model.items()
    }
    return table, counts


def render(
    title: str,
    about: str,
    models: Sequence[str],
    examples: Mapping[str, Mapping[str, Any]],
    traces_by_model: Mapping[str, Sequence[Mapping[str, Any]]],
) -> str:
    """The HTML text of the report."""
    table, counts = span_summary(traces_by_model)
    ordered = sorted(examples.values(), key=lambda e: (e["domain"], e["family"], e["difficulty"], e["id"]))
    data = json_safe(
        {
            "title": title,
            "about": about,
            "models": list(models),
            "levels": viewer_data.LEVELS,
            "examples": ordered,
            "span_table": table,
            "span_counts": counts,
        }
    )
    html = TEMPLATE.read_text(encoding="utf-8")
    return html.replace("__TITLE__", _escape(title)).replace("__DATA__", script_json(data))


SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: Any) -> str:
    """`data` as JSON safe inside `<script type="application/json">`: `<`, `>` and `&` are written as
    \\u003c, \\u003e and \\u0026, so no text (`</script>`, `<!--<script>`) can end or re-open the block."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "".join(SCRIPT_ESCAPES.get(ch, ch) for ch in text)


def _escape(text: str) -> str:
    return html_lib.escape(text, quote=True)


def write(path: Path, html: str) -> Path:
    """Write the report (creating its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
