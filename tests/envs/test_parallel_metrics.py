"""Eval metrics of the parallel-translation environment: corpus chrF++/BLEU equal sacrebleu's, MAUVE runs on
features (offline), and the hub-bound extras say plainly when they are unavailable."""

from __future__ import annotations

import importlib.util

import pytest

from parallel_translation.metrics import comet, corpus_chrf_bleu, corpus_metrics, mauve


def test_corpus_chrf_and_bleu_match_sacrebleu():
    from sacrebleu.metrics import BLEU, CHRF

    hyps = ["the dog runs fast", "two horses", "I see"]
    refs = ["the dog runs", "two horses", "I see it"]
    got = corpus_chrf_bleu(hyps, [[r] for r in refs])
    assert got["chrf++"] == pytest.approx(CHRF(word_order=2).corpus_score(hyps, [refs]).score)
    assert got["bleu"] == pytest.approx(BLEU(effective_order=True).corpus_score(hyps, [refs]).score)
    tasks = [{"answer": r, "alternatives": [], "source": "x"} for r in refs]
    assert corpus_metrics(refs, tasks)["chrf++"] == pytest.approx(100.0)
    assert corpus_metrics([None, None, None], tasks)["chrf++"] == pytest.approx(0.0)
    # a second reference is used where given
    alt = corpus_chrf_bleu(["I see"], [["I see it", "I see"]])
    assert alt["chrf++"] == pytest.approx(100.0)


@pytest.mark.skipif(importlib.util.find_spec("mauve") is None, reason="mauve-text not installed")
def test_mauve_separates_distributions_from_features():
    import numpy as np

    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(200, 16)), rng.normal(size=(200, 16))
    far = rng.normal(loc=3.0, size=(200, 16))
    same = mauve(["a"] * 200, ["b"] * 200, features=(p, q))
    different = mauve(["a"] * 200, ["b"] * 200, features=(p, far))
    assert same["status"] == different["status"] == "ok"
    assert same["score"] > 0.9 > 0.5 > different["score"]


def test_hub_bound_extras_report_unavailable_instead_of_failing(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = comet(["good man"], ["wićaśta waśte"], ["wićaśta waśte"])
    assert result["status"].startswith("unavailable:")
    if importlib.util.find_spec("comet") is None:
        assert "unbabel-comet is not installed" in result["status"]
    if importlib.util.find_spec("mauve") is not None:
        text = mauve(["a b c"] * 20, ["a b d"] * 20, featurizer="gpt2-large")
        assert text["status"].startswith("unavailable:")
    tasks = [{"answer": "wićaśta waśte", "source": "good man"}]
    out = corpus_metrics(["wićaśta waśte"], tasks, extras=["comet-kiwi"])
    assert out["comet-kiwi"]["status"].startswith("unavailable:") and out["chrf++"] == pytest.approx(100.0)
