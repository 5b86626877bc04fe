"""Meaningful spans of a prompt, for grouping token attributions.

Dakota prompts: the `stem` (the Dakota form or word list the task is about), the `vocabulary` line (and a
verb's English gloss in brackets), the requested `features` (the inflection asked for, or the English meaning
to express) and the `instructions` (everything else the user turn says). Math prompts: the `numbers`, the
`operations` (symbols and the words that name an operation) and the `instructions`. Around the user turn,
chat-template text is `template`; after it, the model's own `reasoning` and its `answer`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

DAKOTA_SPANS = ("stem", "vocabulary", "features", "instructions")
MATH_SPANS = ("numbers", "operations", "instructions")
CONTEXT_SPANS = ("template", "reasoning", "answer")
"""Spans outside the user's words: the chat template, the generated reasoning, earlier answer tokens."""

OPERATION_WORDS = (
    "add",
    "adds",
    "plus",
    "more",
    "finds",
    "gets",
    "receives",
    "sum",
    "total",
    "together",
    "minus",
    "gives",
    "loses",
    "uses",
    "use",
    "left",
    "spends",
    "sells",
    "fewer",
    "less",
    "remain",
    "times",
    "each",
    "every",
    "per",
    "bags",
    "boxes",
    "twice",
    "double",
    "multiply",
    "product",
    "shares",
    "equally",
    "among",
    "divide",
    "divided",
    "split",
    "half",
)
"""Words of the shipped math prompts that name an operation (or the unit a product/quotient runs over)."""
_MATH_NUMBER = re.compile(r"\d+")
_MATH_SYMBOL = re.compile(r"[+\-×÷*/()=]")
_MATH_WORD = re.compile(r"\b(" + "|".join(OPERATION_WORDS) + r")\b", re.IGNORECASE)

_DAKOTA_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("vocabulary", re.compile(r"Vocabulary: (?P<s>[^\n]*)")),
    ("stem", re.compile(r"Dakota verb: (?P<s>[^\s(]+)")),
    ("vocabulary", re.compile(r"Dakota verb: [^\s(]+ (?P<s>\([^)\n]*\))")),
    ("features", re.compile(r"Inflect it for: (?P<s>[^\n]*?)\.?\n")),
    ("stem", re.compile(r"Translate this Dakota into English: (?P<s>[^\n]*)")),
    ("features", re.compile(r"Translate into Dakota: (?P<s>[^\n]*?)\.?(\n|$)")),
    ("features", re.compile(r"Give the Dakota \w+ that means: (?P<s>[^\n]*)")),
    ("features", re.compile(r"right place: (?P<s>[^\n]*)")),
    ("features", re.compile(r"to say (?P<s>\"[^\"]*\")")),
    ("stem", re.compile(r"to say \"[^\"]*\": (?P<s>[^\n]*)")),
    ("stem", re.compile(r"(?m)^(?P<s>\S.* → .*)$")),
)
"""(span, pattern): the named group `s` of each match is labelled;
later rules do not overwrite earlier ones."""


def domain_of(task: Mapping[str, Any]) -> str:
    """`math` for the math comparison set, else `dakota`."""
    return "math" if str(task.get("id", "")).startswith("math-") else "dakota"


def prompt_labels(task: Mapping[str, Any], text: str) -> list[str]:
    """One span label per character of `text` (the task's user turn); only the task's own prompt inside it
    is searched for spans, the rest is `instructions`."""
    labels = ["instructions"] * len(text)

    def mark(start: int, end: int, label: str) -> None:
        for i in range(start, end):
            if labels[i] == "instructions":
                labels[i] = label

    start = max(text.find(str(task.get("prompt", ""))), 0)
    body = text[: start + len(str(task.get("prompt", text)))]
    if domain_of(task) == "math":
        for pattern, label in (
            (_MATH_NUMBER, "numbers"),
            (_MATH_SYMBOL, "operations"),
            (_MATH_WORD, "operations"),
        ):
            for m in pattern.finditer(body, start):
                mark(m.start(), m.end(), label)
        return labels
    for label, pattern in _DAKOTA_RULES:
        for m in pattern.finditer(body, start):
            mark(m.start("s"), m.end("s"), label)
    return labels


def token_labels(
    offsets: Sequence[tuple[int, int]], char_labels: Sequence[str], text: str, default: str = "template"
) -> list[str]:
    """A label per token: the most common label among the non-space characters it covers (ties go to the
    first), else its first character's label, else `default` (a token that covers no character)."""
    out = []
    for start, end in offsets:
        span = range(max(start, 0), min(end, len(char_labels)))
        inside = [char_labels[i] for i in span if not text[i].isspace()]
        if inside:
            out.append(max(dict.fromkeys(inside), key=inside.count))
        else:
            out.append(char_labels[span[0]] if len(span) else default)
    return out


def chat_labels(task: Mapping[str, Any], chat: str, user_text: str) -> list[str]:
    """Span labels per character of a chat-formatted prompt: the user turn labelled by `prompt_labels`,
    everything around it `template`."""
    at = chat.find(user_text)
    labels = ["template"] * len(chat)
    if at >= 0:
        labels[at : at + len(user_text)] = prompt_labels(task, user_text)
    return labels


def group(scores: Sequence[float], labels: Sequence[str]) -> dict[str, float]:
    """Sum of `scores` per label."""
    out: dict[str, float] = {}
    for score, label in zip(scores, labels, strict=True):
        out[label] = out.get(label, 0.0) + float(score)
    return out
