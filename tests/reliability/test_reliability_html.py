"""The interactive report holds hostile text as data: nothing a completion, a task or a label contains becomes
markup or script.

| case | before | after |
|---|---|---|
| a completion/prompt containing `<!--<script>` | the data block's JSON broke and the main script was swallowed: a blank report | `<`, `>`, `&` written as `\\u003c`, `\\u003e`, `\\u0026`; the page renders, the text intact |
| task `family = 'x" onmouseover="…'`, `difficulty = '<img src=x onerror=…>'` | a handler on `<optgroup>`; an `<img onerror>` in `#ranked` on a heat-map click | escaped (quotes too) everywhere they are shown |
| `--models 'x" hidden autofocus=…'`, `'../../evil=…'`, `'/dir/config=…'` | attributes injected; cache JSON written outside `--out` / over a file | exit 2, one line: a label is a plain name |
| a `cache/<label>.json` that is not a cache (`{}`, `[]`) | KeyError traceback | ignored: the model is analysed again |
"""  # noqa: E501 (markdown table rows)

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from conftest import view_args  # noqa: E402
from headless_chromium import DevTools  # noqa: E402

from dakota_interp import study, viewer  # noqa: E402
from dakota_interp.study import StudyError, parse_models  # noqa: E402

HOSTILE = {
    "prompt": "<!--<script>alert(1)</script> Translate </script><img src=x onerror=alert(2)>",
    "family": 'x" onmouseover="alert(3)',
    "difficulty": "<img src=x onerror=alert(4)>",
}
TOKEN = "</script><!--<script>"
GENERATION = '<!--<script>alert(5)</script>"'


class Tags(HTMLParser):
    """Counts start tags, as an HTML tokenizer sees them (script content is raw text up to `</script`)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)


@pytest.fixture(scope="module")
def hostile_report(tiny_qwen3: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real study on a tiny model, whose cached result is then given hostile text and rendered again (the
    second run reuses the cache, as `view` does when a study grows)."""
    out = tmp_path_factory.mktemp("hostile-view")
    args = view_args(out, f"dakota-base={tiny_qwen3}", n=1, view=1, max_new_tokens=4)
    study.run(args, log=lambda _line: None)
    cache = out / "cache" / "dakota-base.json"
    saved = json.loads(cache.read_text())
    for ex in saved["examples"].values():
        ex.update(HOSTILE)
        for view in ex["views"].values():
            view["tokens"][1] = TOKEN
        for trace in ex["traces"].values():
            trace["generation"] = GENERATION
            trace["tokens"][-1] = TOKEN
    cache.write_text(json.dumps(saved))
    study.run(args, log=lambda _line: None)
    return out / "report.html"


def test_data_block_escapes_script_context():
    text = viewer.script_json({"a": "</script><!--<script>&"})
    assert not set("<>&") & set(text)
    assert json.loads(text) == {"a": "</script><!--<script>&"}


def test_report_with_hostile_text_keeps_two_scripts_and_no_injected_tag(hostile_report: Path):
    html = hostile_report.read_text(encoding="utf-8")
    parser = Tags()
    parser.feed(html)
    assert parser.tags.count("script") == 2 and "img" not in parser.tags
    blob = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S)
    assert not set("<>&") & set(blob.group(1)), "markup characters in the script's data"
    data = json.loads(blob.group(1))
    assert all(ex["prompt"] == HOSTILE["prompt"] for ex in data["examples"]), "the text is kept, as data"


@pytest.mark.slow
def test_hostile_report_renders_intact_in_headless_chromium(hostile_report: Path, browser: DevTools):
    browser.send("Runtime.enable")
    browser.send("Page.enable")
    browser.send("Page.navigate", url=hostile_report.as_uri())
    ready = "document.body && document.body.dataset.ready === '1'"
    browser.wait_for(ready, explain=lambda: browser.exceptions)
    browser.click('#summary td[data-model="dakota-base"][data-layer="0"][data-head="0"]')  # fills #ranked
    browser.wait_for("document.querySelectorAll('#ranked a').length > 0")
    assert browser.js("document.scripts.length") == 2
    assert browser.js("document.querySelectorAll('img, [onerror], [onmouseover], [autofocus]').length") == 0
    assert browser.js("D.examples[0].prompt") == HOSTILE["prompt"]
    assert HOSTILE["family"] in browser.js("document.querySelector('#example optgroup').label")
    assert HOSTILE["difficulty"] in browser.js("document.getElementById('ranked').textContent")
    assert TOKEN in browser.js("document.getElementById('tokens').textContent")
    assert not browser.exceptions, browser.exceptions


@pytest.mark.parametrize("label", ['x" hidden autofocus', "../../evil", "/dir/config", "a b", "x$(id)"])
def test_model_labels_are_plain_names(label):
    with pytest.raises(StudyError, match="--models label"):
        parse_models([f"{label}=smollm2-135m-instruct"])


def test_a_cache_file_that_is_not_ours_is_ignored(tmp_path):
    for text in ("{}", "[]", "not json"):
        (tmp_path / "c.json").write_text(text)
        assert study.read_cache(tmp_path / "c.json") is None
