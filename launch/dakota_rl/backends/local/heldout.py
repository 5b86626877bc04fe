"""Held-out evaluation inside the trainer's process: a fixed, seeded sample, batched generation,
the env's scorer.

The prompt is built exactly as for training (the env's system prompt through the tokenizer's chat template),
the completion is scored by `env.score`, and each evaluation writes `<run>/eval/step_NNNNNN.jsonl` (one line
per task) plus one `eval/…` row in `metrics.jsonl`. `HeldoutCallback` runs it at step 0,
every `interval` steps and at the last step of a TRL trainer.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dakota_rl.envs import EnvSpec


def heldout_sample(env: EnvSpec, num_tasks: int, seed: int, split: str | None = None) -> list[dict[str, Any]]:
    """`num_tasks` tasks of `split` (default: the env's held-out split) drawn with `seed` (the same tasks at
    every step and in every run)."""
    tasks = env.load_tasks(split or env.heldout_split)
    if len(tasks) <= num_tasks:
        return tasks
    chosen = sorted(random.Random(seed).sample(range(len(tasks)), num_tasks))
    return [tasks[i] for i in chosen]


@dataclass
class HeldoutEval:
    """Evaluates a model on fixed tasks; `run` returns per-task rows and writes them under `out_dir`."""

    env: EnvSpec
    tasks: list[dict[str, Any]]
    out_dir: Path
    max_tokens: int = 32
    greedy: bool = True
    temperature: float = 1.0
    batch_size: int = 32
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time of each evaluation, by label."""
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    """CPU time of this process (all threads) for each evaluation: the load-independent cost."""
    samples: int = 0
    """With > 0, `run` also samples this many completions per task on the first `sample_tasks` tasks at
    `sample_temperature` (`samples/<label>.jsonl`) and adds the sampled diagnostics to the summary."""
    sample_tasks: int = 50
    sample_temperature: float = 1.0

    def generate(self, model: Any, tokenizer: Any) -> list[tuple[str, bool]]:
        """(completion text, truncated) per task, in task order."""
        import torch

        eos = _eos_ids(model, tokenizer)
        was_training, side = model.training, tokenizer.padding_side
        model.eval()
        tokenizer.padding_side = "left"
        out: list[tuple[str, bool]] = []
        try:
            for start in range(0, len(self.tasks), self.batch_size):
                batch = self.tasks[start : start + self.batch_size]
                texts = [
                    tokenizer.apply_chat_template(
                        prompt_messages(self.env, t), tokenize=False, add_generation_prompt=True
                    )
                    for t in batch
                ]
                enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(
                    model.device
                )
                with torch.no_grad():
                    ids = model.generate(
                        **enc,
                        max_new_tokens=self.max_tokens,
                        do_sample=not self.greedy,
                        temperature=self.temperature if not self.greedy else None,
                        top_p=None,
                        top_k=None,
                        eos_token_id=eos,
                        pad_token_id=tokenizer.pad_token_id,
                    )
                for row in ids[:, enc["input_ids"].shape[1] :].tolist():
                    out.append(_decode(row, eos, self.max_tokens, tokenizer))
        finally:
            tokenizer.padding_side = side
            model.train(was_training)
        return out

    def score(self, completions: list[tuple[str, bool]]) -> list[dict[str, Any]]:
        """One row per task: ids, groups, completion, total, each component, exact, format_ok, truncated."""
        rows = []
        for task, (text, truncated) in zip(self.tasks, completions, strict=True):
            s = self.env.score(text, task, truncated)
            rows.append(
                {
                    "task_id": task.get("id"),
                    "family": task.get("family", task.get("tier")),
                    "difficulty": task.get("difficulty"),
                    "completion": text,
                    "total": float(s.total),
                    **self.env.component_values(s),
                    "exact": bool(s.exact),
                    "format_ok": bool(s.format_ok),
                    "truncated": bool(truncated),
                    "lemma_copy": self.env.is_copy(s, task) if self.env.is_copy else None,
                }
            )
        return rows

    def run(self, model: Any, tokenizer: Any, label: str) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """Generate, score, write `<out_dir>/<label>.jsonl`; return the rows and their `eval/…` summary."""
        started, cpu = time.perf_counter(), time.process_time()
        rows = self.score(self.generate(model, tokenizer))
        write_rows(rows, self.out_dir / f"{label}.jsonl")
        summary = summarize(rows, list(self.env.components))
        if self.samples:
            summary |= self.sampled(model, tokenizer, label)
        self.seconds[label] = round(time.perf_counter() - started, 2)
        self.cpu_seconds[label] = round(time.process_time() - cpu, 2)
        return rows, summary

    def sampled(self, model: Any, tokenizer: Any, label: str) -> dict[str, float]:
        """The sampled diagnostics as `eval/<name>` (rows in `samples/<label>.jsonl`)."""
        from dakota_rl.backends.local.sampled_eval import run_sampled

        diag = run_sampled(
            self.env,
            self.tasks[: self.sample_tasks],
            model,
            tokenizer,
            self.out_dir / "samples" / f"{label}.jsonl",
            samples=self.samples,
            temperature=self.sample_temperature,
            max_tokens=self.max_tokens,
        )
        return {f"eval/{k}": v for k, v in diag.items()}


def prompt_messages(env: EnvSpec, task: dict[str, Any]) -> list[dict[str, str]]:
    """The chat a task is posed as, in training and in evaluation."""
    return [{"role": "system", "content": env.system_prompt}, {"role": "user", "content": task["prompt"]}]


def summarize(rows: list[dict[str, Any]], components: list[str]) -> dict[str, float]:
    """`eval/total`, `eval/<component>`, rates, `eval/n` and `eval/family/<name>/total`."""
    n = max(len(rows), 1)
    out = {"eval/total": sum(r["total"] for r in rows) / n}
    for name in components:
        if name != "total":
            out[f"eval/{name}"] = sum(r[name] for r in rows) / n
    out["eval/exact_rate"] = sum(r["exact"] for r in rows) / n
    out["eval/format_fail_rate"] = sum(not r["format_ok"] for r in rows) / n
    out["eval/truncated_rate"] = sum(r["truncated"] for r in rows) / n
    out["eval/n"] = len(rows)
    copies = [r["lemma_copy"] for r in rows if r.get("lemma_copy") is not None]
    if copies:
        out["eval/lemma_copy_rate"] = sum(map(bool, copies)) / len(copies)
    families: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        families[str(r["family"])].append(r["total"])
    for family, totals in sorted(families.items()):
        out[f"eval/family/{family}/total"] = sum(totals) / len(totals)
    return out


def write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The per-task rows of one `eval/*.jsonl`."""
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def step_label(step: int) -> str:
    return f"step_{step:06d}"


def make_heldout_callback(
    heldout: HeldoutEval, interval: int, tokenizer: Any, metrics_path: Path, report_wandb: bool
) -> Any:
    """A TRL `TrainerCallback` that evaluates at step 0, every `interval` steps and at the end."""
    from transformers import TrainerCallback

    class HeldoutCallback(TrainerCallback):
        def __init__(self) -> None:
            self.done: set[int] = set()

        def _evaluate(self, step: int, model: Any) -> None:
            if step in self.done or model is None:
                return
            self.done.add(step)
            _, summary = heldout.run(model, tokenizer, step_label(step))
            with metrics_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"step": step, **summary}) + "\n")
            print(
                f"eval step {step}: total={summary['eval/total']:.3f} exact={summary['eval/exact_rate']:.3f} "
                f"format_fail={summary['eval/format_fail_rate']:.3f} n={summary['eval/n']}",
                flush=True,
            )
            if report_wandb:
                import wandb

                if wandb.run is not None:
                    wandb.log({**summary, "train/global_step": step})

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self._evaluate(state.global_step, model)

        def on_step_end(self, args, state, control, model=None, **kwargs):
            if state.global_step == state.max_steps or (interval and state.global_step % interval == 0):
                self._evaluate(state.global_step, model)

        def on_train_end(self, args, state, control, model=None, **kwargs):
            self._evaluate(state.global_step, model)

    return HeldoutCallback()


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    ids = {tokenizer.eos_token_id}
    eos = getattr(model.generation_config, "eos_token_id", None)
    ids.update(eos if isinstance(eos, list) else [eos])
    return sorted(i for i in ids if i is not None)


def _decode(row: list[int], eos: list[int], max_tokens: int, tokenizer: Any) -> tuple[str, bool]:
    """Cut at the first EOS; truncated = the cap was reached without EOS."""
    cut = next((i for i, t in enumerate(row) if t in eos), None)
    generated = row if cut is None else row[:cut]
    truncated = cut is None and len(row) >= max_tokens
    return tokenizer.decode(generated, skip_special_tokens=True), truncated
