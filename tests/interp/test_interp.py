"""Interpretability analyses on a tiny random Qwen3 (real Qwen3 tokenizer): attention statistics, logit
lens, head ablation, activation patching and checkpoint diffs assert properties that can fail."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import torch

pytest.importorskip("transformers")

from dakota_interp import ablation, attention, diff, lens, patching  # noqa: E402
from dakota_interp.model import chat_text, encode, encode_with_gold, head_layout, load  # noqa: E402

MATH = {
    "id": "math-test1",
    "family": "arithmetic",
    "difficulty": "easy",
    "prompt": "Compute 24 + 5.",
    "answer": "29",
    "meta": {},
}
# Riggs 1852 § 92 (mani, amawani) is the contract's own example; ya- is the 2nd-person agent prefix.
WALK_1SG = {
    "id": "dgt-a",
    "family": "morphology",
    "difficulty": "easy",
    "prompt": 'Dakota verb: mani (to walk).\nInflect it for: subject "I".',
    "answer": "mawani",
    "meta": {"stem": "mani", "affixes": [{"form": "wa", "slot": "infix"}]},
}
WALK_2SG = {
    **WALK_1SG,
    "id": "dgt-b",
    "prompt": 'Dakota verb: mani (to walk).\nInflect it for: subject "you".',
    "answer": "mayani",
    "meta": {"stem": "mani", "affixes": [{"form": "ya", "slot": "infix"}]},
}

# From the shipped held-out set (uŋ- 1pl agent + -pi on ḳu "to give"): carries special letters.
GIVE_1PL = {
    "id": "dgt-c",
    "family": "morphology",
    "difficulty": "medium",
    "prompt": 'Dakota verb: ḳu (to give).\nInflect it for: subject "we" (more than two).',
    "answer": "uŋḳupi",
    "meta": {"stem": "ḳu", "affixes": [{"form": "uŋ", "slot": "prefix"}, {"form": "pi", "slot": "suffix"}]},
}


@pytest.fixture(scope="module")
def tiny(tiny_qwen3: Path):
    return load(str(tiny_qwen3))


def test_pattern_stats_on_known_patterns():
    n = 5
    uniform = torch.tril(torch.ones(n, n)) / torch.arange(1, n + 1)[:, None]
    sink = torch.zeros(n, n)
    sink[:, 0] = 1.0
    stats = attention.pattern_stats(torch.stack([uniform, sink]), {"x": torch.tensor([0, 1, 0, 0, 1]).bool()})
    queries = n - 1
    assert stats["entropy_norm"][0] / queries == pytest.approx(1.0)
    assert stats["entropy_norm"][1] == pytest.approx(0.0, abs=1e-6)
    assert stats["sink"][1] / queries == pytest.approx(1.0)
    # a uniform head gives each class exactly its baseline mass; the sink head gives it none
    assert stats["x_mass"][0] == pytest.approx(float(stats["x_baseline"][0]))
    assert stats["x_mass"][1] == pytest.approx(0.0)


def test_attention_summary_bounds_and_matches_output_attentions(tiny):
    model, tok = tiny
    encs = [encode(tok, chat_text(tok, t)) for t in (MATH, GIVE_1PL)]
    summary = attention.attention_summary(model, encs)
    n_layers, n_heads, _, _ = head_layout(model)
    ent = torch.tensor(summary["entropy"])
    norm = torch.tensor(summary["entropy_norm"])
    assert ent.shape == norm.shape == (n_layers, n_heads)
    longest = max(e.input_ids.shape[1] for e in encs)
    assert bool((ent >= 0).all()) and bool((ent <= math.log(longest)).all())
    assert bool((norm >= 0).all()) and bool((norm <= 1 + 1e-6).all())
    assert bool((torch.tensor(summary["sink_mass"]) <= 1 + 1e-6).all())
    assert "dakota_special_ratio" in summary and "digit_ratio" in summary
    # the same numbers from the model's own output_attentions (an independent path)
    expected = torch.zeros(n_layers, n_heads)
    queries = 0
    with torch.no_grad():
        for enc in encs:
            out = model(input_ids=enc.input_ids, output_attentions=True)
            for layer, pattern in enumerate(out.attentions):
                expected[layer] += attention.pattern_stats(pattern[0], {})["entropy_norm"]
            queries += enc.input_ids.shape[1] - 1
    torch.testing.assert_close(norm, expected / queries, atol=1e-5, rtol=1e-5)


def test_token_classes_mark_special_letters_and_fragments(tiny):
    _, tok = tiny
    enc = encode(tok, "ta ḳu 12")
    classes = attention.token_classes(enc)
    spans = [enc.text[p.start : p.end] for p in enc.pieces]
    assert classes["byte_fragment"].sum() >= 2  # " ḳ" after a space is cut into byte tokens
    assert all("ḳ" in s for s, c in zip(spans, classes["dakota_special"], strict=True) if c)
    assert classes["digit"].any()


def test_logit_lens_last_layer_is_the_model_output(tiny):
    model, tok = tiny
    enc, n_prompt = encode_with_gold(tok, MATH)
    with lens.LastPositionRecorder(model) as rec, torch.no_grad():
        logits = model(input_ids=enc.input_ids[:, :n_prompt]).logits[0, -1]
    n_layers, _, _, _ = head_layout(model)
    assert len(rec.states) == n_layers + 1
    decoded = lens.decode_residuals(model, torch.stack(rec.states))
    torch.testing.assert_close(decoded[-1], torch.log_softmax(logits.float(), -1), atol=1e-4, rtol=1e-4)
    row = lens.lens_for_task(model, tok, MATH)
    target = int(enc.input_ids[0, n_prompt])
    assert row["rank"][-1] == int((decoded[-1] > decoded[-1, target]).sum())
    assert all(r >= 0 for r in row["rank"])


def test_ablating_every_head_changes_the_output_and_only_its_slice(tiny):
    model, tok = tiny
    batch = ablation.GoldBatch(tok, [MATH, WALK_1SG])
    n_layers, n_heads, _, head_dim = head_layout(model)
    with torch.no_grad():
        base = model.model(input_ids=batch.input_ids).last_hidden_state
    o_proj = model.model.layers[0].self_attn.o_proj
    for layer in range(n_layers):
        for head in range(n_heads):
            seen: list[torch.Tensor] = []
            with ablation.ablate(model, [(layer, head)]), torch.no_grad():
                spy = o_proj.register_forward_pre_hook(lambda _m, args, seen=seen: seen.append(args[0]))
                out = model.model(input_ids=batch.input_ids).last_hidden_state
                spy.remove()
            assert not torch.allclose(out, base), f"ablating L{layer}.H{head} changed nothing"
            cut = slice(head * head_dim, (head + 1) * head_dim)
            zeroed = bool((seen[0][..., cut] == 0).all())
            assert zeroed == (layer == 0), "only the ablated layer's slice is zeroed"
            others = torch.cat([seen[0][..., : cut.start], seen[0][..., cut.stop :]], -1)
            assert bool((others != 0).all()), "the other heads' outputs are untouched"
    with torch.no_grad():
        torch.testing.assert_close(model.model(input_ids=batch.input_ids).last_hidden_state, base)  # unhooked


def test_mean_ablation_and_proxy_scan(tiny):
    model, tok = tiny
    batch = ablation.GoldBatch(tok, [MATH, WALK_1SG])
    means = ablation.head_means(model, batch)
    n_layers, n_heads, _, head_dim = head_layout(model)
    assert means.shape == (n_layers, n_heads, head_dim)
    scan = ablation.proxy_scan(model, batch, means, progress=False)
    assert scan.shape == (n_layers, n_heads) and bool(scan.abs().sum() > 0)
    # gold log-probs equal a plain full-logits computation
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=batch.input_ids).logits.float(), -1)
    expected = [
        logp[i, :-1][batch.gold[i, :-1]]
        .gather(-1, batch.input_ids[i, 1:][batch.gold[i, :-1]][:, None])
        .mean()
        for i in range(2)
    ]
    torch.testing.assert_close(
        ablation.gold_logprob(model, batch), torch.stack(expected), atol=1e-4, rtol=1e-4
    )
    lists = ablation.dissociation(scan, -scan, k=2)
    assert lists["dakota_not_math"][0]["dakota"] == pytest.approx(float(scan.min()))
    assert lists["math_not_dakota"][0]["math"] == pytest.approx(float(-scan.max()))
    assert all(h["dakota"] < 0 for h in lists["dakota_not_math"])
    assert ablation.dissociation(scan, scan, k=2) == {"dakota_not_math": [], "math_not_dakota": []}


def test_reward_and_generation(tiny):
    model, tok = tiny
    assert ablation.reward(MATH, "<answer>29</answer>") == 1.0
    assert ablation.reward(MATH, "<answer>30</answer>") == 0.0
    assert ablation.reward(
        {
            **WALK_1SG,
            "alternatives": [],
            "answer_language": "dakota",
            "split": "heldout",
            "meta": {**WALK_1SG["meta"], "segments": [{"form": "mawani", "kind": "word"}]},
        },
        "<answer>mawani</answer>",
    ) == pytest.approx(1.0)
    answers = ablation.generate_answers(model, tok, [MATH, WALK_1SG], max_new_tokens=3)
    assert len(answers) == 2 and all(a.startswith("<answer>") and a.endswith("</answer>") for a in answers)
    lo, hi = ablation.bootstrap_ci([0.0, 1.0, 0.5, 0.5])
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0


def test_patching_a_run_with_itself_changes_nothing(tiny):
    model, tok = tiny
    pairs = patching.minimal_pairs(tok, [WALK_1SG, WALK_2SG])
    assert len(pairs) == 1 and pairs[0].affixes == ("wa", "ya")
    a, b = pairs[0].ids
    assert a.shape == b.shape and bool((a != b).any())
    targets = pairs[0].targets
    base = patching.logit_diff(model, a, targets)
    positions = [[0], [int((a != b).nonzero()[0, 1])], [a.shape[1] - 1]]
    assert torch.allclose(
        patching.patch_residual(model, a, a, targets, positions), torch.tensor(base), atol=1e-4
    )
    assert torch.allclose(patching.patch_heads(model, a, a, targets), torch.tensor(base), atol=1e-4)
    # the last layer's output at the last position decides the logits: patching it restores the clean run
    resid = patching.patch_residual(model, a, b, targets, [[a.shape[1] - 1]])
    assert resid[-1, 0] == pytest.approx(base, abs=1e-4)
    result = patching.patch_pair(model, pairs[0])
    assert result["residual"][-1][-1] == pytest.approx(1.0, abs=1e-3)


def test_cka_and_weight_changes_localise_an_injected_change(tiny):
    model, tok = tiny
    x = torch.randn(50, 8)
    q, _ = torch.linalg.qr(torch.randn(8, 8))
    assert diff.linear_cka(x, x) == pytest.approx(1.0)
    assert diff.linear_cka(x, 3 * x @ q) == pytest.approx(1.0)
    assert diff.linear_cka(x, torch.randn(50, 8)) < 0.9
    encs = [encode(tok, chat_text(tok, t)) for t in (MATH, WALK_1SG)]
    assert diff.cka_per_layer(model, model, encs) == pytest.approx([1.0] * (head_layout(model)[0] + 1))

    other = copy.deepcopy(model)
    _, _, _, head_dim = head_layout(model)
    with torch.no_grad():
        other.model.layers[1].self_attn.q_proj.weight[2 * head_dim : 3 * head_dim] *= 1.5
    changes = diff.weight_changes(model, other)
    heads = torch.tensor(changes["head_rel_change"])
    assert int(heads.argmax()) == 1 * heads.shape[1] + 2
    assert float(heads.sum() - heads[1, 2]) == 0.0
    assert changes["mlp_rel_change"] == [0.0, 0.0]
    assert changes["changed_fraction"][0] == 0.0 < changes["changed_fraction"][1]
    assert min(diff.cka_per_layer(model, other, encs)[2:]) < 1.0


def test_attribution_is_the_derivative_of_ablation(tiny):
    model, tok = tiny
    model64 = copy.deepcopy(model).double()
    batch = ablation.GoldBatch(tok, [MATH, GIVE_1PL])
    estimate = ablation.attribution_scan(model64, batch)
    zs, _ = ablation.head_input_grads(model64, lambda m: ablation.gold_logprob(m, batch).mean())
    _, n_heads, _, head_dim = head_layout(model)
    eps = 1e-3
    with torch.no_grad():
        base = float(ablation.gold_logprob(model64, batch).mean())
    for layer, head in [(0, 1), (1, 3)]:
        # move the head's output a small step towards zero: the change is eps × the attribution estimate
        means = torch.zeros(2, n_heads, *zs[layer].shape[:-1], head_dim, dtype=torch.float64)
        means[layer, head] = (1 - eps) * zs[layer][..., head * head_dim : (head + 1) * head_dim]
        with ablation.ablate(model64, [(layer, head)], means), torch.no_grad():
            moved = float(ablation.gold_logprob(model64, batch).mean())
        assert (moved - base) / eps == pytest.approx(float(estimate[layer, head]), rel=2e-2, abs=1e-6)
    exact = ablation.proxy_scan(model, batch, progress=False)
    some = ablation.proxy_scan(model, batch, heads=[(1, 2)], progress=False)
    assert some[1, 2] == pytest.approx(float(exact[1, 2]), abs=1e-5) and int(some.isnan().sum()) == 7

    pair = patching.minimal_pairs(tok, [WALK_1SG, WALK_2SG])[0]
    a, b = pair.ids
    base = patching.logit_diff(model, a, pair.targets)
    # patching a run with itself: the first-order estimate is exactly the unpatched logit difference
    assert torch.allclose(
        patching.attribution_patch_heads(model, a, a, pair.targets), torch.tensor(base), atol=1e-4
    )
    screened = patching.patch_pair(model, pair, exact_heads=2)
    heads = torch.tensor(screened["heads"], dtype=torch.float32)
    assert int((~heads.isnan()).sum()) in (2, 3, 4) and "heads_attribution" in screened
