"""Tokenizer fertility with the real Qwen3 tokenizer: counts match the tokenizer, special-letter splits are
classified as the tokenizer cuts them, NFD handling."""

from __future__ import annotations

import unicodedata

import pytest
from conftest import qwen3_tokenizer_dir

from dakota_interp import tokenization as T

# Gold answers and glosses of the shipped held-out tasks (derived from Riggs's rules; unreviewed).
DAKOTA = ["uŋḳupi", "iye ḳiŋ", "amauŋni kte śni", "ohićiya", "awićawape śni"]
ENGLISH = ["we give", "he himself carries", "we two will not walk on", "I win you", "I do not strike them"]


@pytest.fixture(scope="module")
def qwen3():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen3_tokenizer_dir())


def test_corpus_stats_match_the_tokenizer(qwen3):
    stats = T.corpus_stats(qwen3, DAKOTA)
    tokens = sum(len(qwen3(x, add_special_tokens=False)["input_ids"]) for x in DAKOTA)
    words = sum(len(x.split()) for x in DAKOTA)
    assert stats["tokens"] == tokens and stats["words"] == words
    assert stats["tokens_per_word"] == pytest.approx(tokens / words)
    assert stats["chars_per_token"] == pytest.approx(sum(map(len, DAKOTA)) / tokens)
    assert stats["bytes"] == sum(len(x.encode()) for x in DAKOTA)
    assert T.corpus_stats(qwen3, ENGLISH)["tokens_per_word"] < stats["tokens_per_word"]


def test_byte_fragments_and_letter_splits(qwen3):
    toks = T.pieces(qwen3, " ḳu")
    # ' ' + first byte of ḳ is one token (Ġá), then the two continuation bytes: 3 fragments, then 'u'
    assert [p.fragment for p in toks] == [True, True, True, False]
    assert T.letter_split(" ḳu", toks, 1) == ("fragments", 3)
    assert T.letter_split("ś", T.pieces(qwen3, "ś"), 0) == ("whole", 1)
    kind, n = T.letter_split("iye ḳiŋ", T.pieces(qwen3, "iye ḳiŋ"), 4)
    assert (kind, n) == ("fragments", 3)
    rows = {r["letter"]: r for r in T.letter_table(qwen3, ["ḳ", "ś"])}
    assert rows["ḳ"]["word_initial"] == {"kind": "fragments", "tokens": 3}
    assert rows["ś"]["alone"] == {"kind": "whole", "tokens": 1}


def test_corpus_letters_count_every_occurrence(qwen3):
    letters = ["ḳ", "ŋ", "ś", "ć"]
    result = T.corpus_letters(qwen3, DAKOTA, letters)
    occurrences = sum(x.count(c) for x in DAKOTA for c in letters)
    assert sum(sum(v.values()) for v in result["totals"].values()) == occurrences
    assert result["per_letter"]["ḳ"]["after_space"]["fragments"] == 1  # "iye ḳiŋ"
    assert result["per_letter"]["ḳ"]["mid_word"]["whole"] == 1  # "uŋḳupi"
    assert result["examples_split_first_letter"] == ["ḳiŋ"]


def test_nfd_without_normalizer_costs_more_and_report_shape(qwen3):
    raw = T.without_normalizer(qwen3)
    nfd = [unicodedata.normalize("NFD", x) for x in DAKOTA]
    assert T.corpus_stats(raw, nfd)["tokens"] > T.corpus_stats(qwen3, DAKOTA)["tokens"]
    assert T.corpus_stats(qwen3, nfd)["tokens"] == T.corpus_stats(qwen3, DAKOTA)["tokens"]  # NFC normaliser
    assert qwen3.backend_tokenizer.normalizer is not None  # the copy did not touch the original
    assert T.strip_diacritics("uŋḳupi ohićiya óta") == "unkupi ohiciya ota"
    report = T.fertility_report(qwen3, {"dakota": DAKOTA, "english_gloss": ENGLISH}, ["ḳ", "ŋ"])
    assert set(report["corpora"]) == {
        "dakota",
        "english_gloss",
        "dakota_stripped",
        "dakota_nfd_no_normalizer",
        "dakota_nfd_with_normalizer",
    }
    assert report["nfd_roundtrip_to_nfc"] == {"equal": len(DAKOTA), "lines": len(DAKOTA)}
