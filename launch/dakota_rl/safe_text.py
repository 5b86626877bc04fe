"""Strings from configs and flags that reach a file name, a job script or a shell, checked where they enter.

- `check_run_name`: a run (or label) name is one plain folder name made of letters, digits and `._-+@,=:`:
  no separator, no `.`/`..`, no whitespace, no control character, nothing a shell reads (`$`, backticks,
  quotes, `;`, `&`, `|`, `<`, `>`, parentheses, globs), and no leading `-` (it would read as a flag).
- `check_script_path`: a path rendered unquoted into a job script: the same characters plus `/`.
- `check_one_line`: any string rendered into a job script line: no control character (newline, CR, NUL,
  escape…) and no Unicode format character (bidi overrides, zero-width).
"""

from __future__ import annotations

import unicodedata

from dakota_rl.errors import UserError

_NAME_PUNCTUATION = frozenset("._-+@,=:")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def check_one_line(value: object, what: str) -> str:
    """`value` unchanged when it holds no control or format character; else UserError."""
    text = str(value)
    bad = next((ch for ch in text if _is_control(ch)), None)
    if bad is not None:
        raise UserError(f"{what} {text!r} contains the control character {bad!r}: write it on one line")
    return text


def _unsafe_char(text: str, extra: frozenset[str] = frozenset()) -> str | None:
    allowed = _NAME_PUNCTUATION | extra
    return next((ch for ch in text if not (ch.isalnum() or ch in allowed)), None)


def check_run_name(value: object, what: str = "run name") -> str:
    """`value` when it is a plain, shell-safe folder name (module docstring); else UserError."""
    text = str(value)
    check_one_line(text, what)
    if not text or text in (".", "..") or text.startswith("-"):
        raise UserError(f"{what} {text!r} must be a plain folder name (not empty, '.', '..' or '-…')")
    bad = _unsafe_char(text)
    if bad is not None:
        raise UserError(
            f"{what} {text!r} contains {bad!r}: use letters, digits and . _ - + @ , = : only "
            "(no '/', spaces, quotes or shell characters)"
        )
    return text


def check_script_path(value: object, what: str) -> str:
    """`value` when it is a path a job script can hold unquoted (module docstring); else UserError."""
    text = str(value)
    check_one_line(text, what)
    bad = _unsafe_char(text, frozenset("/"))
    if bad is not None or not text:
        raise UserError(
            f"{what} {text!r} contains {bad!r}, which a SLURM job script would read as shell: use a path "
            "of letters, digits and / . _ - + @ , = : only (`%` is a SLURM file-name pattern)"
        )
    return text


def safe_label(text: str) -> str:
    """`text` made into a run name: unsafe characters become `_` (never `.`/`..`, never empty)."""
    out = "".join(ch if ch.isalnum() or ch in _NAME_PUNCTUATION else "_" for ch in text).lstrip("-")
    return out if out.strip(".") else f"_{out}"
