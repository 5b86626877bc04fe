"""DakotaTranslationParser: reasoning removal, the last answer tag, the untagged fallback, canonical text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from dakota_grammar_translation.orthography import canonicalize
from dakota_grammar_translation.parser import MAX_COMPLETION_CHARS, ParsedAnswer, parse_answer


def test_tagged_answer_after_reasoning():
    assert parse_answer("<think>ma + wa + ni</think>\n<answer> mawani </answer>") == ParsedAnswer(
        "mawani", True, False
    )


def test_last_tag_wins():
    assert parse_answer("<answer>mani</answer> no wait <answer>mawani</answer>").answer == "mawani"


def test_think_opened_by_the_chat_template():
    assert (
        parse_answer("reasoning <answer>wrong</answer> more</think>\n<answer>mawani</answer>").answer
        == "mawani"
    )


def test_answer_inside_reasoning_does_not_count():
    parsed = parse_answer("<think>It is <answer>mawani</answer>.</think>")
    assert parsed.answer is None and not parsed.format_ok


def test_unterminated_think_means_no_answer():
    assert parse_answer("<think>I think <answer>mawani</answer>") == ParsedAnswer(None, False, True)
    assert parse_answer("<answer>x</answer><think>wait") == ParsedAnswer(None, False, True)


def test_untagged_reply_scores_its_last_line_without_format_credit():
    assert parse_answer("Let me see.\nmawani\n\n") == ParsedAnswer("mawani", False, False)


def test_unclosed_answer_tag_is_truncated():
    assert parse_answer("<think>ok</think><answer>mawa") == ParsedAnswer("mawa", False, True)


def test_empty_tag_and_empty_input():
    assert parse_answer("<answer>  </answer>") == ParsedAnswer(None, False, False)
    for value in ("", None, 42, b"<answer>x</answer>", ["mawani"]):
        assert parse_answer(value) == ParsedAnswer(None, False, False)


def test_answer_is_canonical():
    nfd = unicodedata.normalize("NFD", "waśté")
    assert parse_answer(f"<answer>{nfd}</answer>").answer == "waśté"
    assert parse_answer("<answer>Šuŋka  waŋ</answer>").answer == "Śuŋka waŋ"
    assert parse_answer("<answer>s'a</answer>").answer == "sʼa"


def test_megabyte_completion_reads_only_its_tail():
    text = "x" * 1_000_000 + "<answer>mawani</answer>"
    assert parse_answer(text).answer == "mawani"
    early = "<answer>mawani</answer>" + "y " * MAX_COMPLETION_CHARS
    assert parse_answer(early).answer != "mawani"


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["<think>", "</think>", "<answer>", "</answer>", "\n", " ", "mawani", "ś", "\u0301", "'"]
        )
        | st.text(max_size=20),
        max_size=12,
    )
)
def test_never_raises_and_answer_is_canonical(parts):
    parsed = parse_answer("".join(parts))
    assert parsed.answer is None or (parsed.answer and canonicalize(parsed.answer) == parsed.answer)
    assert not (parsed.format_ok and parsed.answer is None)
