"""The interactive report: built by `view` from two tiny random Qwen3 models (base and "trained"), it is
self-contained (no network reference), its packed attention decodes to row-stochastic patterns, and in
headless Chromium (driven over the DevTools protocol with websocket-client) real mouse clicks switch the
model, select a head from a summary heatmap and jump to an example behind it; a screenshot is written."""

from __future__ import annotations

import base64
import json
import os
import re
import zlib
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytestmark = pytest.mark.slow  # builds two tiny models and runs the whole study on them (~1-2 min on 2 cores)

from conftest import build_tiny_qwen3, view_args  # noqa: E402
from headless_chromium import DevTools  # noqa: E402

from dakota_interp import study, viewer_data  # noqa: E402


@pytest.fixture(scope="module")
def report_dir(tiny_qwen3: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    trained = build_tiny_qwen3(tmp_path_factory.mktemp("tiny-trained"), seed=1)
    out = tmp_path_factory.mktemp("view")
    args = view_args(out, f"dakota-base={tiny_qwen3}", f"dakota-rl={trained}", n=2, view=2, max_new_tokens=6)
    lines = study.run(args, log=lambda _line: None)
    assert any("report.html" in line for line in lines)
    return out


def report_data(html: str) -> dict:
    blob = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S)
    assert blob is not None
    return json.loads(blob.group(1))


def test_report_is_self_contained_and_attention_decodes(report_dir: Path):
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html), "external resource referenced"
    assert "http://" not in html and "https://" not in html
    data = report_data(html)
    assert data["models"] == ["dakota-base", "dakota-rl"]
    assert {e["domain"] for e in data["examples"]} == {"dakota", "math"}
    for ex in data["examples"]:
        for view in ex["views"].values():
            t, fq = len(view["tokens"]), view["first_query"]
            raw = zlib.decompress(base64.b64decode(view["attention"]))
            assert len(raw) == view["layers"] * view["heads"] * (t - fq) * t
            weights = [(b / viewer_data.LEVELS) ** 2 for b in raw[:t]]  # layer 0, head 0, first stored query
            assert sum(weights) == pytest.approx(1.0, abs=0.25)  # quantisation error only
            assert all(w == 0 for w in weights[fq + 1 :]), "a query attends to a later token"
            assert len(view["lens_rank"]) == view["layers"] + 1
    traced = [t for ex in data["examples"] for t in ex["traces"].values() if t["attributed"]]
    assert traced
    for t in traced:
        assert sum(t["input_x_grad"]) == pytest.approx(1.0, abs=1e-2)
        assert sum(t["rollout_spans"].values()) == pytest.approx(1.0, abs=1e-3)
    assert (report_dir / "study.md").read_text().count("| dakota-") >= 4
    dakota = [v for ex in data["examples"] if ex["domain"] == "dakota" for v in ex["views"].values()]
    assert any(v["special"][i] for v in dakota for i in range(len(v["tokens"])))


def test_report_in_headless_chromium(report_dir: Path, browser: DevTools):
    browser.send("Runtime.enable")
    browser.send("Page.enable")
    browser.send("Page.navigate", url=(report_dir / "report.html").as_uri())
    browser.wait_for("document.body && document.body.dataset.ready === '1'")
    weights = "[...document.querySelectorAll('#tokens .tok')].map(s => s.dataset.weight)"
    base = browser.js(weights)
    assert len(base) > 10 and abs(sum(float(w) for w in base) - 1.0) < 0.3
    for flag, cls in (("fragment", "frag"), ("special", "special")):
        shown = browser.js(f"document.querySelectorAll('#tokens .tok.{cls}').length")
        assert shown == browser.js(
            f"D.examples[state.example].views[state.model].{flag}.filter(x => x).length"
        )

    browser.js("document.body.dataset.ready = '0'")
    browser.click("#model-1")
    browser.wait_for("document.body.dataset.ready === '1'")
    assert browser.js("document.querySelector('input[name=model]:checked').value") == "dakota-rl"
    assert browser.js(weights) != base, "switching model did not change the attention shown"

    browser.click('#summary td[data-model="dakota-rl"][data-layer="1"][data-head="2"]')
    browser.wait_for("document.getElementById('layer-value').textContent === '1'")
    assert browser.js("document.getElementById('head-value').textContent") == "2"
    links = browser.js("[...document.querySelectorAll('#ranked a')].map(a => a.dataset.example)")
    assert len(links) == 4
    browser.click(f'#ranked a[data-example="{links[-1]}"]')
    browser.wait_for(
        f"document.getElementById('example').value === '{links[-1]}'",
        explain=lambda: (browser.exceptions, browser.js("document.getElementById('ranked').innerHTML")),
    )
    assert browser.js("document.querySelectorAll('#lens-svg polyline').length") == 2
    assert browser.js("document.querySelectorAll('#span-table tr').length") > 4
    assert not browser.exceptions, browser.exceptions

    shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    path = Path(os.environ.get("DAKOTA_INTERP_SCREENSHOT", report_dir / "report.png"))
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
