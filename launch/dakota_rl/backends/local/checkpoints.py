"""Contract 5 checkpoints: `<run>/checkpoints/step_N/` complete HF folders (LoRA: merged model + `adapter/`).

TRL's own resumable state (optimizer, scheduler, RNG) lives beside them in `<run>/trainer/checkpoint-N/`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

_STEP = re.compile(r"^(?:step_|checkpoint-)(\d+)$")


def step_dirs(parent: Path) -> list[tuple[int, Path]]:
    """(step, folder) for `step_N` / `checkpoint-N` folders under `parent`, oldest first."""
    if not parent.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in parent.iterdir() if p.is_dir() and (m := _STEP.match(p.name))]
    return sorted(found)


def latest_trainer_state(run_dir: Path) -> Path | None:
    """The newest resumable TRL checkpoint of a run, or None."""
    dirs = step_dirs(run_dir / "trainer")
    return dirs[-1][1] if dirs else None


def save_hf_checkpoint(model: Any, tokenizer: Any, run_dir: Path, step: int, keep_last: int | None) -> Path:
    """Write `checkpoints/step_N` (sampling on in generation_config) and prune to `keep_last`."""
    out = run_dir / "checkpoints" / f"step_{step}"
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if hasattr(model, "merge_and_unload"):
        model.save_pretrained(tmp / "adapter")
        merged = _merged_copy(model)
    else:
        merged = model
    merged.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    gen = merged.generation_config
    gen.do_sample = True
    if gen.eos_token_id is None:
        gen.eos_token_id = tokenizer.eos_token_id
    gen.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    if keep_last:
        for _, old in step_dirs(out.parent)[:-keep_last]:
            shutil.rmtree(old)
    return out


def _merged_copy(peft_model: Any) -> Any:
    """The base model with the adapter merged, leaving the training model untouched."""
    import copy

    return copy.deepcopy(peft_model).merge_and_unload()
