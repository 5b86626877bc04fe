"""Corpus-level translation metrics for evaluation: chrF++ and BLEU always (sacrebleu), COMET / COMET-Kiwi and
MAUVE when their packages and model weights are available. Pure except for the optional extras.

The learned metrics never fail an eval: when a package or its weights are missing they return
`{"status": "unavailable: <why>"}` so the report says so plainly instead of showing a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

COMET_MODEL = "Unbabel/wmt22-comet-da"
COMET_KIWI_MODEL = "Unbabel/wmt22-cometkiwi-da"


def corpus_chrf_bleu(answers: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Corpus chrF++ (word_order=2) and BLEU in [0, 100]; `references[i]` are the references of answer i."""
    from sacrebleu.metrics import BLEU, CHRF

    width = max(len(r) for r in references)
    streams = [[refs[k] if k < len(refs) else refs[0] for refs in references] for k in range(width)]
    hyps = list(answers)
    return {
        "chrf++": CHRF(word_order=2).corpus_score(hyps, streams).score,
        "bleu": BLEU(tokenize="13a", effective_order=True).corpus_score(hyps, streams).score,
    }


def comet(
    sources: Sequence[str],
    answers: Sequence[str],
    references: Sequence[str] | None,
    model: str = COMET_MODEL,
    batch_size: int = 8,
) -> dict[str, Any]:
    """COMET (with references) or COMET-Kiwi (`references=None`, a quality-estimation model); system score."""
    try:
        from comet import download_model, load_from_checkpoint
    except ImportError:
        return {
            "status": "unavailable: unbabel-comet is not installed "
            "(pip install 'parallel-translation[comet]')"
        }
    try:
        checkpoint = download_model(model)
        scorer = load_from_checkpoint(checkpoint)
    except Exception as err:  # hub errors come in many types; all mean "no weights here"
        return {
            "status": f"unavailable: cannot load {model} weights ({type(err).__name__}: {str(err)[:120]})"
        }
    rows = [
        {"src": s, "mt": a} | ({"ref": references[i]} if references is not None else {})
        for i, (s, a) in enumerate(zip(sources, answers, strict=True))
    ]
    out = scorer.predict(rows, batch_size=batch_size, gpus=0, progress_bar=False)
    return {"status": "ok", "model": model, "score": float(out.system_score)}


def mauve(
    answers: Sequence[str],
    references: Sequence[str],
    *,
    featurizer: str = "gpt2-large",
    features: tuple[Any, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """MAUVE between model answers and references. `features` = (answer_features, reference_features) skips
    the featurizer model (e.g. embeddings from a local model);
    otherwise `featurizer` is loaded from the hub."""
    try:
        import mauve as mauve_lib
    except ImportError:
        return {
            "status": "unavailable: mauve-text is not installed (pip install 'parallel-translation[mauve]')"
        }
    clusters = max(2, min(len(answers) // 10, 50))
    try:
        if features is not None:
            out = mauve_lib.compute_mauve(
                p_features=features[0], q_features=features[1], seed=seed, num_buckets=clusters, verbose=False
            )
        else:
            out = mauve_lib.compute_mauve(
                p_text=list(answers),
                q_text=list(references),
                seed=seed,
                featurize_model_name=featurizer,
                num_buckets=clusters,
                device_id=-1,
                verbose=False,
            )
    except Exception as err:  # featurizer download / load failures: report, do not fail the eval
        return {"status": f"unavailable: MAUVE could not run ({type(err).__name__}: {str(err)[:120]})"}
    return {"status": "ok", "score": float(out.mauve)}


def corpus_metrics(
    answers: Sequence[str | None], tasks: Sequence[Mapping[str, Any]], extras: Sequence[str] = ()
) -> dict[str, Any]:
    """chrF++ and BLEU over all answers (a missing answer counts as empty), plus the `extras` asked for
    ("comet", "comet-kiwi", "mauve")."""
    hyps = [a or "" for a in answers]
    refs = [[t["answer"], *(t.get("alternatives") or [])] for t in tasks]
    out: dict[str, Any] = corpus_chrf_bleu(hyps, refs)
    sources = [str(t.get("source", "")) for t in tasks]
    if "comet" in extras:
        out["comet"] = comet(sources, hyps, [r[0] for r in refs])
    if "comet-kiwi" in extras:
        out["comet-kiwi"] = comet(sources, hyps, None, model=COMET_KIWI_MODEL)
    if "mauve" in extras:
        out["mauve"] = mauve(hyps, [r[0] for r in refs])
    return out
