"""Mixed-policy GRPO: the task's gold completion inside the update (`[local.mixed_policy]`).

Two options on top of TRL's GRPOTrainer, each off by default (then the trainer is TRL's, step for step):

- `gold_in_group`: in each group one slot is the gold completion instead of a sample (LUFFY, arXiv 2504.14945,
  without its policy shaping). It is scored like any completion, so it gets the advantage its reward implies
  (reward − group mean), and the slot is not generated (one sample fewer per group).
- `sft_weight` λ: λ · NLL(gold completion | prompt), averaged over the gold's tokens, added to the GRPO loss
  once per prompt in the batch (SRFT / CHORD style; a fixed λ).

The gold is `env.gold_completion(task)` tokenised as the assistant's reply and closed with EOS, as the SFT
warm-up trains it; a gold longer than the completion budget is left out (that group stays all sampled).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import torch
from trl import GRPOTrainer


def gold_slots(task_keys: Sequence[str]) -> list[int]:
    """Indices that hold the gold: the last row of each task in the batch (TRL repeats a prompt G times)."""
    last = {key: i for i, key in enumerate(task_keys)}
    return sorted(last.values())


def first_rows(task_keys: Sequence[str]) -> list[int]:
    """Indices of the first row of each task in the batch: where the SFT term is computed, once per prompt."""
    first: dict[str, int] = {}
    for i, key in enumerate(task_keys):
        first.setdefault(key, i)
    return sorted(first.values())


def gold_token_ids(text: str, tokenizer: Any, eos_token_id: int, max_tokens: int) -> list[int] | None:
    """The gold completion as token ids ending in EOS, or None when it does not fit `max_tokens`."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"] + [eos_token_id]
    return ids if len(ids) <= max_tokens else None


def mixed_policy_trainer(
    gold_completion: Callable[[dict[str, Any]], str], gold_in_group: bool, sft_weight: float
) -> type:
    """A GRPOTrainer subclass with the two options (TRL's own class when both are off)."""
    if not gold_in_group and not sft_weight:
        return GRPOTrainer
    options = {
        "gold_completion": staticmethod(gold_completion),
        "gold_in_group": gold_in_group,
        "sft_weight": sft_weight,
    }
    return type("MixedPolicyGRPOTrainer", (MixedPolicyBase,), options)


class MixedPolicyBase(GRPOTrainer):
    """TRL's GRPO with the gold in the group and/or an SFT term on the gold."""

    gold_completion: Callable[[dict[str, Any]], str]
    gold_in_group: bool = False
    sft_weight: float = 0.0
    _batch_tasks: list[str] = []

    def _gold_ids(self, task_json: str) -> list[int] | None:
        return gold_token_ids(
            self.gold_completion(json.loads(task_json)),
            self.processing_class,
            self.processing_class.eos_token_id,
            self.max_completion_length,
        )

    def _generate_and_score_completions(self, inputs):
        self._batch_tasks = [row["task_json"] for row in inputs]
        output = super()._generate_and_score_completions(inputs)
        if self.sft_weight:
            output.update(self._gold_batch(output["prompt_ids"].device))
        return output

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, **kw):
        tasks = self._batch_tasks
        generate = super()._generate_single_turn
        if not self.gold_in_group or not self.model.training or len(tasks) != len(prompt_ids):
            return generate(prompt_ids, images, multimodal_fields, num_generations, **kw)
        golds = {i: ids for i in gold_slots(tasks) if (ids := self._gold_ids(tasks[i])) is not None}
        sampled = [i for i in range(len(prompt_ids)) if i not in golds]
        ids, logprobs = generate(
            [prompt_ids[i] for i in sampled], images, multimodal_fields, num_generations, **kw
        )
        if logprobs is not None:
            raise RuntimeError("gold_in_group needs transformers generation (no sampling logprobs)")
        completions = dict(zip(sampled, ids, strict=True)) | golds
        return [completions[i] for i in range(len(prompt_ids))], None

    def _gold_batch(self, device: Any) -> dict[str, Any]:
        """Right-padded gold ids and a mask that is 1 on the gold tokens of each task's first row."""
        tasks = self._batch_tasks
        rows = [self._gold_ids(t) or [] for t in tasks]
        keep = set(first_rows(tasks))
        width = max(1, *(len(r) for r in rows))
        ids = torch.full((len(rows), width), self.processing_class.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = int(i in keep)
        return {"gold_ids": ids.to(device), "gold_mask": mask.to(device)}

    def _compute_loss(self, model, inputs):
        loss = super()._compute_loss(model, inputs)
        if self.sft_weight and "gold_ids" in inputs:
            nll = self._gold_nll(model, inputs)
            self._metrics["train" if self.model.training else "eval"]["sft_nll"].append(float(nll.detach()))
            loss = loss + self.sft_weight * nll
        return loss

    def _gold_nll(self, model, inputs):
        """Mean NLL of the gold tokens given the prompt, over the rows that carry a gold mask."""
        rows = inputs["gold_mask"].sum(dim=1) > 0
        if not bool(rows.any()):
            return torch.zeros((), device=inputs["gold_ids"].device)
        gold_ids, gold_mask = inputs["gold_ids"][rows], inputs["gold_mask"][rows]
        logps, _, _ = self._get_per_token_logps_and_entropies(
            model,
            torch.cat([inputs["prompt_ids"][rows], gold_ids], dim=1),
            torch.cat([inputs["prompt_mask"][rows], gold_mask], dim=1),
            gold_ids.size(1),
        )
        return -(logps * gold_mask).sum() / gold_mask.sum().clamp(min=1)
