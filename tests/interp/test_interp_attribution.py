"""Attribution of answers to prompt spans: span labels on real prompts, attention rollout on known
patterns and against the model's own attention, input × gradient on a constructed model whose answer can
depend on one span only, and the normalisations every report relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers")

from dakota_interp import attribution, spans, trace  # noqa: E402
from dakota_interp.corpora import user_prompt  # noqa: E402
from dakota_interp.model import chat_text, encode_with_gold, load  # noqa: E402

GIVE = {
    "id": "dgt-c",
    "family": "morphology",
    "difficulty": "medium",
    "answer": "uŋḳupi",
    "prompt": 'Dakota verb: ḳu (to give).\nInflect it for: subject "we" (more than two).\n'
    "Write the complete Dakota form.",
}
TRANSLATE = {
    "id": "dgt-t",
    "family": "reverse_translation",
    "difficulty": "medium",
    "answer": "niwaśte kta",
    "prompt": "Translate into Dakota: you will be good.\nVocabulary: waśte = to be good",
}
MATH = {
    "id": "math-1",
    "family": "word_problem",
    "difficulty": "easy",
    "answer": "43",
    "prompt": "Dara has 25 beads and finds 18 more. How many beads does Dara have now?",
}


def spans_of(task: dict) -> dict[str, list[str]]:
    text = user_prompt(task)
    labels = spans.prompt_labels(task, text)
    out: dict[str, list[str]] = {}
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and labels[j] == labels[i]:
            j += 1
        out.setdefault(labels[i], []).append(text[i:j].strip())
        i = j
    return out


def test_span_labels_on_real_prompts():
    give = spans_of(GIVE)
    assert give["stem"] == ["ḳu"] and give["vocabulary"] == ["(to give)"]
    assert give["features"] == ['subject "we" (more than two)']
    translate = spans_of(TRANSLATE)
    assert translate["features"] == ["you will be good"] and translate["vocabulary"] == ["waśte = to be good"]
    math = spans_of(MATH)
    assert math["numbers"] == ["25", "18"] and math["operations"] == ["finds", "more"]
    # the answer-format instruction appended to every prompt stays an instruction, in both domains
    assert not any("answer" in s for s in math["operations"] + give["stem"])


def test_token_labels_take_the_majority_of_non_space_characters():
    text = "ab 12"
    labels = ["instructions"] * 3 + ["numbers"] * 2
    assert spans.token_labels([(0, 2), (2, 5), (5, 5)], labels, text, default="template") == [
        "instructions",
        "numbers",
        "template",
    ]


def test_rollout_on_known_patterns():
    n = 4
    to_first = torch.zeros(1, n, n)
    to_first[0, :, 0] = 1.0
    one = attribution.rollout([to_first])
    expected = 0.5 * to_first[0] + 0.5 * torch.eye(n)
    assert torch.allclose(one, expected)
    two = attribution.rollout([to_first, to_first])
    assert torch.allclose(two, expected @ expected)
    assert torch.allclose(two.sum(-1), torch.ones(n))
    assert two[3, 0] == pytest.approx(0.75) and two[3, 3] == pytest.approx(0.25)
    # heads are averaged: a head on the sink and a head on itself give half of each
    self_head = torch.eye(n)[None]
    mixed = attribution.rollout([torch.cat([to_first, self_head])])
    assert mixed[2, 0] == pytest.approx(0.25) and mixed[2, 2] == pytest.approx(0.75)


def test_shares_and_bootstrap_normalise():
    scores = torch.tensor([5.0, -3.0, 1.0, 1.0])
    sources = torch.tensor([False, True, True, True])
    s = attribution.shares(scores, sources, absolute=True)
    assert s.tolist() == pytest.approx([0.0, 0.6, 0.2, 0.2])
    assert attribution.shares(torch.zeros(4), sources).sum() == 0
    mean, lo, hi = attribution.bootstrap_mean_ci([0.1, 0.2, 0.3, 0.4])
    assert mean == pytest.approx(0.25) and 0.1 <= lo < mean < hi <= 0.4


@pytest.fixture(scope="module")
def tiny(tiny_qwen3: Path):
    return load(str(tiny_qwen3))


def test_rollout_hooks_match_output_attentions(tiny):
    model, tok = tiny
    enc, n_prompt = encode_with_gold(tok, GIVE)
    answer = list(range(n_prompt, enc.input_ids.shape[1]))
    got = attribution.attribute(model, enc.input_ids, answer)
    with torch.no_grad():
        out = model(input_ids=enc.input_ids, output_attentions=True)
    rolled = attribution.rollout([a[0] for a in out.attentions])
    assert torch.allclose(got["rollout"], rolled[torch.tensor(answer) - 1].mean(0), atol=1e-5)
    assert float(got["rollout"].sum()) == pytest.approx(1.0, abs=1e-5)
    assert all(p.requires_grad for p in model.parameters()), "attribute() must restore requires_grad"


def test_input_x_gradient_finds_the_only_span_the_answer_can_depend_on(tiny_qwen3: Path):
    """Every input embedding except those of the stem's tokens is set to zero, so nothing but the stem can
    carry information to the answer: all input × gradient mass of the prompt must land on the stem."""
    model, tok = load(str(tiny_qwen3))
    enc, n_prompt = encode_with_gold(tok, GIVE)
    prompt = chat_text(tok, GIVE)
    labels = spans.token_labels(
        [(p.start, p.end) for p in enc.pieces],
        spans.chat_labels(GIVE, prompt, user_prompt(GIVE)) + ["answer"] * 20,
        enc.text,
    )
    ids = enc.input_ids[0].tolist()
    stem = {ids[i] for i in range(n_prompt) if labels[i] == "stem"}
    others = {ids[i] for i in range(n_prompt) if labels[i] != "stem"}
    keep = stem - others
    assert keep, "the stem shares all its tokens with other spans"
    with torch.no_grad():
        weight = model.get_input_embeddings().weight
        mask = torch.zeros(weight.shape[0], 1)
        mask[list(keep)] = 1.0
        weight.mul_(mask)
    answer = list(range(n_prompt, len(ids)))
    scores = attribution.attribute(model, enc.input_ids, answer)
    sources = torch.arange(len(ids)) < n_prompt
    grouped = spans.group(attribution.shares(scores["input_x_grad"], sources, absolute=True).tolist(), labels)
    assert sum(grouped.values()) == pytest.approx(1.0, abs=1e-6)
    assert grouped["stem"] == pytest.approx(1.0, abs=1e-6)
    assert float(scores["input_x_grad"][[i for i in range(n_prompt) if labels[i] == "stem"]].abs().sum()) > 0


def test_trace_task_groups_shares_per_span(tiny):
    model, tok = tiny
    row = trace.trace_task(model, tok, MATH, max_new_tokens=5)
    assert row["attributed"] and len(row["tokens"]) == len(row["labels"]) == len(row["rollout"])
    for method in ("rollout", "input_x_grad"):
        assert sum(row[method]) == pytest.approx(1.0, abs=1e-5)
        assert sum(row[f"{method}_spans"].values()) == pytest.approx(1.0, abs=1e-5)
        assert row[method][0] == 0.0, "the sink position is left out"
        assert all(row[method][i] == 0.0 for i in row["answer_positions"])
    assert {"numbers", "operations", "template"} <= set(row["labels"])
    assert row["prompt_tokens"] + 5 >= len(row["tokens"]) > row["prompt_tokens"]


def test_answer_positions_prefer_the_last_tag():
    text = "x <answer>1</answer> so <answer>42</answer>"
    offsets = [(0, 2), (2, 10), (10, 11), (11, 20), (20, 24), (24, 32), (32, 34), (34, 43)]
    assert trace.answer_positions(text, offsets, 0) == ([6], True)
    assert trace.answer_positions("no tag here", [(0, 2), (2, 6), (6, 6), (6, 11)], 0) == ([0, 1, 3], False)
