"""Extract the final answer from a model completion. Pure.

Rules, in order (tags are lower case, as the system prompt writes them):
1. Everything up to the last `</think>` is reasoning and is dropped (this covers closed `<think>` blocks
   and chat templates that open the block in the prompt). A `<think>` still open after that means the
   model never finished thinking: there is no answer, and `truncated` is reported.
2. The answer is the text of the LAST closed `<answer>…</answer>` tag; `format_ok` is True when it is
   non-empty.
3. Without a closed tag the last non-empty line is scored instead, with `format_ok` False. An `<answer>`
   opened but never closed means the reply was cut off: only the text after it is read and `truncated`
   is reported.
4. The answer is canonicalised (NFC, Riggs's letters, ʼ for apostrophes, straight quotes, whitespace).
Only the last `MAX_COMPLETION_CHARS` characters are read: the answer is at the end, and parsing time stays
bounded on megabyte-long replies.
"""

from __future__ import annotations

from dataclasses import dataclass

from dakota_grammar_translation.orthography import canonicalize

MAX_COMPLETION_CHARS = 32_768
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"


@dataclass(frozen=True)
class ParsedAnswer:
    """The canonical final answer (None when there is none) and how it was found."""

    answer: str | None
    format_ok: bool
    truncated: bool


class DakotaTranslationParser:
    """Finds the final answer of a completion (see the module docstring for the rules)."""

    def parse(self, completion: object) -> ParsedAnswer:
        """Parse any value; never raises (non-strings have no answer)."""
        if not isinstance(completion, str) or not completion:
            return ParsedAnswer(None, False, False)
        text = completion[-MAX_COMPLETION_CHARS:]
        close = text.rfind(THINK_CLOSE)
        if close >= 0:
            text = text[close + len(THINK_CLOSE) :]
        if THINK_OPEN in text:
            return ParsedAnswer(None, False, True)
        end = text.rfind(ANSWER_CLOSE)
        start = text.rfind(ANSWER_OPEN, 0, end) if end >= 0 else -1
        if start >= 0:
            answer = canonicalize(text[start + len(ANSWER_OPEN) : end])
            return ParsedAnswer(answer or None, bool(answer), False)
        opened = text.rfind(ANSWER_OPEN)
        if opened >= 0:
            text = text[opened + len(ANSWER_OPEN) :]
        for line in reversed(text.replace(ANSWER_CLOSE, "\n").splitlines()):
            answer = canonicalize(line)
            if answer:
                return ParsedAnswer(answer, False, opened >= 0)
        return ParsedAnswer(None, False, opened >= 0)


_DEFAULT_PARSER = DakotaTranslationParser()


def parse_answer(completion: object) -> ParsedAnswer:
    """Parse with the default parser."""
    return _DEFAULT_PARSER.parse(completion)
