"""Read the model's counts out of a completion (pure; never raises).

The format, precisely:
1. Thinking is dropped: everything up to the last `</think>` (its `<think>` may sit in the prompt, as
   Qwen3's chat template puts it there). A `<think>` left after that is unterminated: no answer.
2. What remains must hold exactly one `<answer>…</answer>` (tags case-insensitive, content trimmed).
   No tag, an unclosed tag or several tags is a format failure (as picoRL).
3. One target letter: the content is a non-negative integer in ASCII digits (at most 9),
   e.g. `<answer>3</answer>`. Several letters: the content is one JSON object of letter → integer, e.g.
   `<answer>{"a": 2, "b": 0}</answer>`. Malformed JSON, a non-object, a duplicated key, or a value that is not
   an integer (`2.0`, `"2"`, `true`) is a format failure. A well-formed object whose keys differ from the
   targets (missing or extra letters) is not a format failure: it parses, and the scorer counts it as wrong on
   every letter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
_OPEN = re.compile(r"<answer>", re.IGNORECASE)
_CLOSE = re.compile(r"</answer>", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_UP_TO_LAST_THINK_CLOSE = re.compile(r".*</think>", re.IGNORECASE | re.DOTALL)
_INTEGER = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class ParsedAnswer:
    """The counts a completion gives (`None` on a format failure) and why it failed, if it did."""

    counts: dict[str, int] | None
    error: str | None = None

    @property
    def format_ok(self) -> bool:
        return self.counts is not None


def strip_thinking(text: str) -> str | None:
    """The text after the last `</think>`, or `None` when a `<think>` is left open."""
    thinking = _UP_TO_LAST_THINK_CLOSE.match(text)
    if thinking:
        text = text[thinking.end() :]
    return None if _THINK_OPEN.search(text) else text


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _parse_json_counts(content: str) -> ParsedAnswer:
    try:
        value = json.loads(content, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError):
        return ParsedAnswer(None, "malformed JSON")
    if not isinstance(value, dict):
        return ParsedAnswer(None, "answer is not a JSON object")
    if not all(type(v) is int for v in value.values()):
        return ParsedAnswer(None, "a count is not an integer")
    return ParsedAnswer(dict(value))


def parse_answer(completion: object, letters: list[str]) -> ParsedAnswer:
    """The counts `completion` gives for the target `letters` (see the module docstring for the rules)."""
    if not isinstance(completion, str):
        return ParsedAnswer(None, "no completion")
    text = strip_thinking(completion)
    if text is None:
        return ParsedAnswer(None, "unterminated <think>")
    opens = len(_OPEN.findall(text))
    if opens == 0:
        return ParsedAnswer(None, "no answer tag")
    answer = _ANSWER.search(text) if opens == 1 and len(_CLOSE.findall(text)) == 1 else None
    if answer is None:  # counted first: a lazy search over many open tags would be quadratic
        return ParsedAnswer(None, "not exactly one answer tag")
    content = answer.group(1).strip()
    if len(letters) == 1:
        if not _INTEGER.fullmatch(content):
            return ParsedAnswer(None, "answer is not a non-negative integer")
        return ParsedAnswer({letters[0]: int(content)})
    return _parse_json_counts(content)
