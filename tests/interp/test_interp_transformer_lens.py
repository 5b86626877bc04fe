"""TransformerLens's bridge sees the same attention as our HF hooks (an independent implementation)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from dakota_interp import attention
from dakota_interp.model import chat_text, encode, load

pytest.importorskip("transformer_lens")


@pytest.mark.slow
def test_bridge_entropies_equal_hf_hooks(tiny_qwen3: Path):
    from dakota_interp.tl_bridge import entropy_via_bridge, load_bridge

    model, tok = load(str(tiny_qwen3))
    task = {"prompt": 'Dakota verb: ḳu (to give).\nInflect it for: subject "we" (more than two).'}
    encs = [encode(tok, chat_text(tok, task)), encode(tok, chat_text(tok, {"prompt": "Compute 24 + 5."}))]
    ours = torch.tensor(attention.attention_summary(model, encs)["entropy_norm"])
    bridge = load_bridge(str(tiny_qwen3))  # its own model copy: the bridge mutates the model it wraps
    theirs = entropy_via_bridge(bridge, encs)
    torch.testing.assert_close(theirs, ours, atol=1e-5, rtol=1e-5)
