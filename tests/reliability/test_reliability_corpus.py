"""A parallel corpus is untrusted input: every way it can be wrong is one line (`prime-rl: error: …`, exit 2),
and no corpus or pattern can hang the loader.

| case | before | after |
|---|---|---|
| rows `[1,2]` / `"str"` / `5`; a `.json` file that is one array | AttributeError traceback | one line naming the file and line |
| `meta: "abc"` / `meta: 5` | ValueError / TypeError traceback | one line |
| Latin-1 JSONL; Latin-1 `orthography` table | UnicodeDecodeError traceback | one line: not UTF-8 |
| random-byte / truncated `.parquet` | pyarrow ArrowInvalid traceback | one line: not a readable Parquet file |
| 100k-deep nested array | RecursionError traceback | one line: nested too deeply |
| a catastrophic `source_pattern` (`((a\\|a)+)+$`) on a 40-character row | hung silently | one line after about a second |
| `source_pattern = "hello"` (no group); `"(unclosed"` | IndexError / re.error traceback | refused when the options are read |
| `prompt_template = "{nope} {source}"` / `"{source"` / `"{source.__class__.__mro__}"` | KeyError / ValueError traceback / accepted | refused when the options are read |
| a line over the row cap (1,000,000 characters) | read whole (100 MB line: 15 s, 820 MB) | refused at the cap, reading no more than it |
| Parquet `source` ints, `target` None | a task with the answer `"None"` | ints refused; a None target drops the pair |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import prime_rl

from parallel_translation import corpus
from parallel_translation.corpus import CorpusError, CorpusOptions, load_tasks

GOOD = '{"source": "hello there", "target": "háu kola"}\n'


def write(tmp_path: Path, name: str, data: bytes | str) -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def refused(match: str, **options) -> None:
    with pytest.raises(CorpusError, match=match):
        load_tasks(CorpusOptions(**options))


@pytest.mark.parametrize(("name", "text", "kind"), [
    ("a.jsonl", "[1, 2]\n", "list"), ("s.jsonl", '"str"\n', "str"), ("n.jsonl", "5\n", "int"),
    ("one.json", '[{"source": "a", "target": "b"}]', "list"),
])  # fmt: skip
def test_rows_that_are_not_objects(tmp_path, name, text, kind):
    refused(rf":1: a corpus row must be a JSON object, got {kind}", data=write(tmp_path, name, text))


@pytest.mark.parametrize("meta", ['"abc"', "5", "[1]"])
def test_meta_must_be_a_mapping(tmp_path, meta):
    row = f'{{"source": "a", "target": "b", "meta": {meta}}}\n'
    refused("`meta` must be an object", data=write(tmp_path, "m.jsonl", row))


def test_latin1_corpus_and_orthography_table(tmp_path):
    refused("not UTF-8", data=write(tmp_path, "l.jsonl", GOOD.encode("latin-1", "replace")))
    table = write(tmp_path, "t.json", '{"special": "é"}'.encode("latin-1"))
    refused("not a UTF-8 JSON file", data=write(tmp_path, "g.jsonl", GOOD), orthography=table)


@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"PAR1" + b"\x00" * 64])
def test_corrupt_parquet(tmp_path, data):
    refused("not a readable Parquet file", data=write(tmp_path, "c.parquet", data))


def test_deep_nesting(tmp_path):
    refused("nested too deeply", data=write(tmp_path, "d.jsonl", "[" * 100_000 + "]" * 100_000 + "\n"))


def test_catastrophic_pattern_is_stopped(tmp_path):
    data = write(tmp_path, "p.jsonl", json.dumps({"source": "a" * 40 + "!", "target": "b"}) + "\n")
    started = time.monotonic()
    refused("ran over", data=data, source_pattern="((a|a)+)+$")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(("pattern", "why"), [("hello", "needs a group"), ("(unclosed", "not a valid regex")])
def test_bad_patterns_are_refused_with_the_options(pattern, why):
    with pytest.raises(ValueError, match=why):
        CorpusOptions(source_pattern=pattern)


def test_pattern_is_compiled_once(tmp_path):
    corpus.compiled_pattern.cache_clear()
    rows = "".join(json.dumps({"source": f"say: hi {i}", "target": f"t{i}"}) + "\n" for i in range(50))
    load_tasks(CorpusOptions(data=write(tmp_path, "r.jsonl", rows), source_pattern=r"say: (.*)"))
    info = corpus.compiled_pattern.cache_info()
    assert info.misses == 1 and info.hits >= 50


@pytest.mark.parametrize("template", ["{nope} {source}", "{source", "{source.__class__.__mro__}",
                                      "{source:>999999999}", "{source!r}"])  # fmt: skip
def test_prompt_templates_use_three_plain_fields(template):
    with pytest.raises(ValueError, match="prompt_template"):
        CorpusOptions(prompt_template=template)
    CorpusOptions(prompt_template="{source_language} → {target_language}: {source} {{literal}}")


def test_row_size_is_capped_while_reading(tmp_path):
    big = json.dumps({"source": "a" * (corpus.MAX_ROW_CHARS + 10), "target": "b"}) + "\n"
    refused("longer than", data=write(tmp_path, "big.jsonl", GOOD + big))


def test_parquet_cells_must_be_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"source": [1, 2], "target": ["x", "y"]}), path)
    refused("the source must be text, got int", data=str(path))
    pq.write_table(pa.table({"source": ["a", "b"], "target": [None, "y"]}), path)
    tasks = load_tasks(CorpusOptions(data=str(path), heldout_fraction=0.01, direction="into"))
    assert [t["answer"] for t in tasks] == ["y"], "a missing target drops its pair"


def test_cli_shows_a_corpus_error_on_one_line(tmp_path):
    data = write(tmp_path, "a.jsonl", "[1, 2]\n")
    cfg = tmp_path / "pt.toml"
    cfg.write_text(
        '[[orchestrator.train.source]]\nname = "pt"\n[orchestrator.train.source.env.taskset]\n'
        f'id = "parallel_translation"\ndata = "{data}"\n'
    )
    result = prime_rl("train", "@", str(cfg), "--backend", "local", "--dry-run", timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "a corpus row must be a JSON object" in result.stderr
