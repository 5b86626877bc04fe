"""Speaker review round trip: lexicon and rules → CSV with verdict columns → back into the YAML sources.

    python -m data.review export --out review.csv
    python -m data.review import review.csv            # updates data/riggs/lexicon.yaml and rules.yaml

A reviewer fills `verdict` (approved | corrected | rejected, or leaves it empty),
`correction` (the right form, required for `corrected`) and `comment`. Import updates `review_status`,
replaces a corrected form (a lexicon entry's `form`; a rule's `operation.form`,
or its `description` when the rule has no form) and records the old value in `history`;
comments go to `notes`. Nothing is ever deleted: rejected entries stay,
marked rejected. A malformed CSV is refused as a whole with a one-line error naming the row and column.

Spreadsheet safety: export prefixes a cell that a spreadsheet would run as a formula (leading `=`, `+`, `-`,
`@`, tab or CR) with `'`, and import strips that one `'` again. Import refuses a correction or comment that
still looks like a formula (`=`, `+`, `@`, or `-` not followed by a letter as in the suffix `-pi`),
any control character, a file that is not UTF-8 (Excel's plain "CSV" is Windows-1252: save as "CSV UTF-8"),
and an id listed twice.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import unicodedata
from pathlib import Path
from typing import Any

import yaml

SOURCE_DIR = Path(__file__).resolve().parent / "riggs"
COLUMNS = ("kind", "id", "form", "meaning", "source", "review_status", "verdict", "correction", "comment")
VERDICTS = ("approved", "corrected", "rejected")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ReviewError(ValueError):
    """A malformed review CSV (the message names the row and column)."""


def _load(path: Path, key: str) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        raise ReviewError(f"{path}: expected a top-level `{key}:` list")
    return doc


def _dump(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")


def neutralise_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a formula-leading value gets a `'` prefix (stripped on import)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class _SafeWriter:
    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: list[Any] | tuple[Any, ...]) -> None:
        self._writer.writerow([neutralise_cell(v) for v in row])


def _export_row(kind: str, entry: dict[str, Any], form: str, meaning: str) -> list[str]:
    """A lexicon entry's or rule's row: what it is, its source and review status, empty verdict columns."""
    source, status = entry.get("source", ""), entry.get("review_status", "")
    return [kind, entry["id"], form, meaning, source, status, "", "", ""]


def export_csv(source_dir: Path = SOURCE_DIR) -> str:
    """Every lexicon entry and rule as one CSV row, verdict columns empty, formula cells neutralised."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(COLUMNS)
    for entry in _load(source_dir / "lexicon.yaml", "entries")["entries"]:
        writer.writerow(_export_row("lexicon", entry, entry["form"], entry.get("gloss", "")))
    for rule in _load(source_dir / "rules.yaml", "rules")["rules"]:
        form = (rule.get("operation") or {}).get("form", "")
        writer.writerow(_export_row("rule", rule, form, rule.get("description", "")))
    return out.getvalue()


def parse_csv(text: str) -> list[dict[str, str]]:
    """The rows that carry a verdict; ReviewError (row and column named) on anything malformed."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise ReviewError(f"row 1, column header: expected columns {', '.join(COLUMNS)}")
    rows: list[dict[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for n, values in enumerate(reader, 2):
            if not any(v.strip() for v in values):
                continue
            row = _checked_row(values, n, seen)
            if not row["verdict"]:
                continue
            _check_verdict(row, n)
            row["row"] = str(n)
            rows.append(row)
    except csv.Error as err:  # e.g. a cell over the csv module's field limit (128 KiB)
        raise ReviewError(f"row {reader.line_num}: not a readable CSV row ({err})") from None
    return rows


def _checked_row(values: list[str], n: int, seen: dict[tuple[str, str], int]) -> dict[str, str]:
    """Row `n` as a dict with checked kind, id and text columns; records its (kind, id) in `seen`."""
    if len(values) != len(COLUMNS):
        raise ReviewError(
            f"row {n}, column {COLUMNS[min(len(values), len(COLUMNS) - 1)]}: expected "
            f"{len(COLUMNS)} columns, found {len(values)}"
        )
    row = {c: v.strip() for c, v in zip(COLUMNS, values, strict=True)}
    if row["kind"] not in ("lexicon", "rule"):
        raise ReviewError(f"row {n}, column kind: {row['kind']!r} is not lexicon or rule")
    if not row["id"]:
        raise ReviewError(f"row {n}, column id: empty")
    if (row["kind"], row["id"]) in seen:
        raise ReviewError(
            f"row {n}, column id: {row['id']!r} is listed twice (rows {seen[row['kind'], row['id']]} "
            f"and {n}): keep one verdict per entry"
        )
    seen[row["kind"], row["id"]] = n
    for column in ("correction", "comment"):
        row[column] = _checked_text(row[column], n, column)
    return row


def _check_verdict(row: dict[str, str], n: int) -> None:
    """ReviewError unless the verdict is known and a `corrected` verdict carries its correction."""
    if row["verdict"] not in VERDICTS:
        raise ReviewError(f"row {n}, column verdict: {row['verdict']!r} is not one of {', '.join(VERDICTS)}")
    if row["verdict"] == "corrected" and not row["correction"]:
        raise ReviewError(f"row {n}, column correction: required when the verdict is corrected")


def _checked_text(value: str, n: int, column: str) -> str:
    """`value` without export's `'` escape; ReviewError for control characters or a formula-like start."""
    text = value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value
    newline_ok = column != "correction"  # a correction is one form: no line breaks
    hidden = ("Cc", "Cf", "Zl", "Zp")  # control, format (bidi overrides, zero-width) and line separators
    allowed = "\n" if newline_ok else ""
    bad = next((c for c in text if unicodedata.category(c) in hidden and c not in allowed), None)
    if bad is not None:
        raise ReviewError(
            f"row {n}, column {column}: control character U+{ord(bad):04X} "
            f"({unicodedata.name(bad, 'unnamed')}) is not allowed"
        )
    if text.startswith(("=", "+", "@", "\t", "\r")) or (text.startswith("-") and not text[1:2].isalpha()):
        raise ReviewError(
            f"row {n}, column {column}: {text[:20]!r} starts like a spreadsheet formula; "
            "write the form itself (a suffix as -pi)"
        )
    return text


def _apply(item: dict[str, Any], row: dict[str, str], field: str, current: str, set_value: Any) -> None:
    old_status = item.get("review_status", "")
    change: dict[str, str] = {"verdict": row["verdict"], "previous_review_status": old_status}
    if row["verdict"] == "corrected":
        change.update({"field": field, "old": current, "new": row["correction"]})
        set_value(row["correction"])
    if row["comment"]:
        change["comment"] = row["comment"]
        notes = str(item.get("notes") or "")
        item["notes"] = f"{notes} Reviewer: {row['comment']}".strip()
    item["review_status"] = row["verdict"]
    item.setdefault("history", []).append(change)


def import_csv(text: str, source_dir: Path = SOURCE_DIR) -> dict[str, int]:
    """Apply the verdicts of a review CSV to the YAML sources; counts by verdict. All-or-nothing."""
    rows = parse_csv(text)
    lexicon = _load(source_dir / "lexicon.yaml", "entries")
    rules = _load(source_dir / "rules.yaml", "rules")
    entries = {e["id"]: e for e in lexicon["entries"]}
    rule_map = {r["id"]: r for r in rules["rules"]}
    for row in rows:
        if row["id"] not in (entries if row["kind"] == "lexicon" else rule_map):
            raise ReviewError(f"row {row['row']}, column id: unknown {row['kind']} id {row['id']!r}")
    counts = {v: 0 for v in VERDICTS}
    for row in rows:
        row["correction"] = unicodedata.normalize("NFC", row["correction"])
        if row["kind"] == "lexicon":
            entry = entries[row["id"]]
            _apply(entry, row, "form", entry["form"], lambda v, e=entry: e.__setitem__("form", v))
        else:
            rule = rule_map[row["id"]]
            op = rule.setdefault("operation", {})
            if "form" in op:
                _apply(rule, row, "operation.form", op["form"], lambda v, o=op: o.__setitem__("form", v))
            else:
                _apply(
                    rule,
                    row,
                    "description",
                    rule.get("description", ""),
                    lambda v, r=rule: r.__setitem__("description", v),
                )
        counts[row["verdict"]] += 1
    _dump(source_dir / "lexicon.yaml", lexicon)
    _dump(source_dir / "rules.yaml", rules)
    return counts


def read_utf8(path: Path) -> str:
    """The CSV's text; ReviewError (one line) when it is not UTF-8, e.g. Excel's Windows-1252 "CSV"."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ReviewError(
            f"{path}: not UTF-8 (byte {err.start}; Excel's plain CSV is Windows-1252, which loses "
            'Dakota letters such as ŋ and ȟ): save it as "CSV UTF-8" and import again'
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.review", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("export", help="write the review CSV")
    exp.add_argument("--out", type=Path, required=True)
    imp = sub.add_parser("import", help="apply a filled-in review CSV to the YAML sources")
    imp.add_argument("csv", type=Path)
    for p in (exp, imp):
        p.add_argument("--source-dir", type=Path, default=SOURCE_DIR)
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            args.out.write_text(export_csv(args.source_dir), encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            if not args.csv.is_file():
                raise ReviewError(f"{args.csv}: file not found")
            counts = import_csv(read_utf8(args.csv), args.source_dir)
            print("applied: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    except ReviewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
