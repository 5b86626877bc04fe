"""TransformerLens (≥ 4.3, `TransformerBridge`) access: load a model as a bridge for interactive work, and
recompute the attention statistics from TL's `hook_pattern` as an independent check of our HF hooks.

Optional: needs `pip install 'dakota-rl[interp]'`. The bridge wraps its own copy of the model (it mutates
the HF model it is given), forces eager attention, and Qwen tokenizers add no BOS, so inputs are passed as
token ids exactly as the HF path sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from dakota_interp.attention import pattern_stats
from dakota_interp.model import Encoded, resolve
from dakota_rl.errors import UserError


def load_bridge(name_or_path: str) -> Any:
    """A `TransformerBridge` booted from a local folder (offline) or a hub id."""
    try:
        from transformer_lens.model_bridge import TransformerBridge
    except ImportError:
        raise UserError(
            "TransformerLens is not installed: pip install 'dakota-rl[interp]' (transformer-lens>=4.3,<5)"
        ) from None
    return TransformerBridge.boot_transformers(resolve(name_or_path), dtype=torch.float32)


@torch.no_grad()
def entropy_via_bridge(bridge: Any, encoded: Sequence[Encoded]) -> torch.Tensor:
    """Mean normalised attention entropy per [layer, head] computed from TL's hook_pattern, folding each
    pattern into sums inside the hook (nothing is cached)."""
    n_layers = bridge.cfg.n_layers
    sums = torch.zeros(n_layers, bridge.cfg.n_heads)
    queries = 0.0

    def hook(pattern: torch.Tensor, hook: Any) -> torch.Tensor:
        layer = int(hook.name.split(".")[1])
        sums[layer] += pattern_stats(pattern[0], {})["entropy_norm"]
        return pattern

    for enc in encoded:
        bridge.run_with_hooks(
            enc.input_ids, fwd_hooks=[(lambda name: name.endswith("attn.hook_pattern"), hook)]
        )
        queries += enc.input_ids.shape[1] - 1
    return sums / queries
