"""Tokenizer fertility: how many tokens Dakota costs next to its English glosses and math, and how each
special letter of Riggs's orthography is cut (a whole token, merged with neighbours, or byte fragments).

Works with any Hugging Face tokenizer that returns offsets (fast tokenizers). A token is a *byte
fragment* when it does not decode to valid UTF-8 on its own (`decode([id])` yields U+FFFD).
"""

from __future__ import annotations

import copy
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

SPLIT_KINDS = ("whole", "merged", "fragments")
"""How a letter is tokenised: its own token, inside a token with other letters, or across byte tokens."""
POSITIONS = ("text_initial", "after_space", "mid_word")
"""Where a letter stands in running text (see `corpus_letters`)."""
LETTER_CONTEXTS = {"alone": "{}", "word_initial": "ta {}a", "mid_word": "a{}a"}
"""Probe strings per context; the letter's position is where `{}` stands."""


@dataclass(frozen=True)
class Piece:
    """One token of a text: its id, the character span it covers and whether it is a byte fragment."""

    token_id: int
    start: int
    end: int
    fragment: bool


def is_byte_fragment(tokenizer: Any, token_id: int) -> bool:
    """True when the token alone is not valid UTF-8 (it decodes to the replacement character)."""
    return "\ufffd" in tokenizer.decode([token_id])


def pieces(tokenizer: Any, text: str) -> list[Piece]:
    """The tokens of `text` (no special tokens) with character offsets."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return [
        Piece(i, s, e, is_byte_fragment(tokenizer, i))
        for i, (s, e) in zip(enc["input_ids"], enc["offset_mapping"], strict=True)
    ]


def letter_split(text: str, toks: Sequence[Piece], index: int) -> tuple[str, int]:
    """How the character at `index` was tokenised: (kind in SPLIT_KINDS, number of tokens touching it)."""
    touching = [p for p in toks if p.start <= index < p.end]
    if len(touching) != 1:
        return "fragments", len(touching)
    span = text[touching[0].start : touching[0].end].strip()
    return ("whole" if span == text[index] else "merged"), 1


def special_letters(letters: Iterable[str]) -> list[str]:
    """The non-ASCII letters among `letters` (the ones a tokenizer trained on English may split)."""
    return [c for c in letters if not c.isascii()]


def orthography_letters() -> list[str]:
    """Riggs's special letters from the environment's orthography table (Contract 2)."""
    from dakota_grammar_translation.orthography import canonical_letters

    return special_letters(canonical_letters())


def letter_table(tokenizer: Any, letters: Sequence[str]) -> list[dict]:
    """Per letter × context (alone, word-initial after a space, mid-word): tokens touching it and the kind."""
    rows = []
    for letter in letters:
        row: dict[str, Any] = {"letter": letter, "codepoints": " ".join(f"U+{ord(c):04X}" for c in letter)}
        for context, template in LETTER_CONTEXTS.items():
            text = template.format(letter)
            kind, n = letter_split(text, pieces(tokenizer, text), template.index("{}"))
            row[context] = {"kind": kind, "tokens": n}
        rows.append(row)
    return rows


def corpus_stats(tokenizer: Any, lines: Sequence[str]) -> dict[str, float]:
    """Tokens per word and per character, characters and UTF-8 bytes per token, byte-fragment share."""
    words = sum(len(line.split()) for line in lines)
    chars = sum(len(line) for line in lines)
    nbytes = sum(len(line.encode()) for line in lines)
    toks = [pieces(tokenizer, line) for line in lines]
    n = sum(len(t) for t in toks)
    frags = sum(p.fragment for t in toks for p in t)
    return {
        "lines": len(lines),
        "words": words,
        "chars": chars,
        "bytes": nbytes,
        "tokens": n,
        "tokens_per_word": n / max(words, 1),
        "tokens_per_char": n / max(chars, 1),
        "chars_per_token": chars / max(n, 1),
        "bytes_per_token": nbytes / max(n, 1),
        "fragment_share": frags / max(n, 1),
    }


def corpus_letters(tokenizer: Any, lines: Sequence[str], letters: Sequence[str]) -> dict[str, Any]:
    """Every occurrence of a special letter in `lines`: counts per letter × position × kind, and the words
    whose first letter is byte-split. Positions: `text_initial` (first character of a text), `after_space`
    (word-initial inside running text, where byte-level BPE glues the space to the letter's first byte) and
    `mid_word`."""
    wanted = set(letters)
    counts: Counter[tuple[str, str, str]] = Counter()
    split_initial: Counter[str] = Counter()
    for line in lines:
        toks = pieces(tokenizer, line)
        for i, char in enumerate(line):
            if char not in wanted:
                continue
            position = "text_initial" if i == 0 else "after_space" if line[i - 1].isspace() else "mid_word"
            kind, _ = letter_split(line, toks, i)
            counts[(char, position, kind)] += 1
            if position != "mid_word" and kind == "fragments":
                split_initial[line[i:].split()[0]] += 1
    table: dict[str, dict[str, dict[str, int]]] = {}
    for (char, position, kind), n in sorted(counts.items()):
        table.setdefault(char, {}).setdefault(position, dict.fromkeys(SPLIT_KINDS, 0))[kind] = n
    totals: dict[str, Counter[str]] = {pos: Counter() for pos in POSITIONS}
    for (_, position, kind), n in counts.items():
        totals[position][kind] += n
    return {
        "per_letter": table,
        "totals": {pos: {k: c[k] for k in SPLIT_KINDS} for pos, c in totals.items()},
        "words_with_split_first_letter": sum(split_initial.values()),
        "examples_split_first_letter": [w for w, _ in split_initial.most_common(15)],
    }


def without_normalizer(tokenizer: Any) -> Any | None:
    """A copy of a fast tokenizer with its Unicode normaliser removed (None when it cannot be removed)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    raw = copy.deepcopy(tokenizer)
    raw.backend_tokenizer.normalizer = None
    return raw


def strip_diacritics(text: str) -> str:
    """Dakota folded to plain ASCII letters (accents and dots dropped, ŋ → n, ʼ → ') — a control corpus."""
    folded = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return folded.translate(str.maketrans({"ŋ": "n", "Ŋ": "N", "\u02bc": "'"}))


def fertility_report(
    tokenizer: Any, corpora: dict[str, list[str]], letters: Sequence[str], dakota_key: str = "dakota"
) -> dict[str, Any]:
    """Everything the fertility section reports, as plain JSON-able data.

    `corpora` maps names (e.g. dakota, english_gloss, math) to lines; NFD (normaliser removed) and
    diacritic-stripped versions of the Dakota corpus are added here.
    """
    dakota = corpora[dakota_key]
    stats = {name: corpus_stats(tokenizer, lines) for name, lines in corpora.items()}
    stats["dakota_stripped"] = corpus_stats(tokenizer, [strip_diacritics(x) for x in dakota])
    raw = without_normalizer(tokenizer)
    nfd = [unicodedata.normalize("NFD", x) for x in dakota]
    if raw is not None:
        stats["dakota_nfd_no_normalizer"] = corpus_stats(raw, nfd)
    stats["dakota_nfd_with_normalizer"] = corpus_stats(tokenizer, nfd)
    roundtrip = sum(
        tokenizer.decode(tokenizer(x, add_special_tokens=False)["input_ids"])
        == unicodedata.normalize("NFC", x)
        for x in nfd
    )
    return {
        "tokenizer": getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "vocab_size": len(tokenizer),
        "normalizer": str(getattr(getattr(tokenizer, "backend_tokenizer", None), "normalizer", None)),
        "corpora": stats,
        "nfd_roundtrip_to_nfc": {"equal": roundtrip, "lines": len(nfd)},
        "letters": letter_table(tokenizer, letters),
        "letters_in_corpus": corpus_letters(tokenizer, dakota, letters),
    }
