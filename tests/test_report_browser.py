"""Open a real report.html: it loads nothing from the network, reads top-down, and renders in headless Chromium.

"Self-contained" means the page makes no external *load*. plotly's inlined bundle holds URL strings in its code
(map tile attributions, a plotly.com link builder), so a search for "http" in the whole file says nothing about
loads. The static test therefore checks what markup can fetch — every `src`/`href`/`srcset`/`poster`/`data`
attribute and every `url(`/`@import` in a stylesheet — and the markup outside scripts; the browser test then
records every request the page makes and allows only the file itself and `data:`/`blob:`/`about:` URLs. The
page's own Content-Security-Policy (`default-src 'none'`) makes any attempted fetch a console error as well.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser

import pytest

from helpers import TINY, run_script

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.browser

LOCAL_SCHEMES = ("data:", "blob:", "about:", "#", "javascript:void")
LOAD_ATTRS = {"src", "href", "srcset", "poster", "data", "action", "background"}


class _Loads(HTMLParser):
    """Collect what markup could fetch; script bodies are text to this parser, not markup."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.styles: list[str] = []
        self.images: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        for name, value in attrs:
            if name in LOAD_ATTRS and value:
                self.urls.append(value.strip())
            if name == "style" and value:
                self.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, bundled_sample):
    run_dir = tmp_path_factory.mktemp("report") / "run"
    result = run_script(
        "pipeline.py", *TINY, "data=bundled", f"data.path={bundled_sample}", f"hydra.run.dir={run_dir}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir


def test_report_is_self_contained(run_dir):
    html = (run_dir / "report.html").read_text()
    parser = _Loads()
    parser.feed(html)
    external = [u for u in parser.urls if not u.startswith(LOCAL_SCHEMES)]
    assert not external, f"markup that loads from elsewhere: {external[:5]}"
    assert not [s for s in parser.styles if re.search(r"url\(\s*['\"]?(?!data:)|@import", s)]
    assert len(parser.images) >= 4 and all(src.startswith("data:image/png;base64,") for src in parser.images)
    outside_scripts = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S)
    assert "http://" not in outside_scripts and "https://" not in outside_scripts
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for section in ("All metrics", "Figures", "Clusters", "Playlists", "Most different", "Map of the"):
        assert section in html
    assert (run_dir / "run.json").exists()


def test_report_reads_top_down(run_dir):
    """Headline first, then playlists, clusters, map, metrics; every metrics.json key is on the page."""
    html = (run_dir / "report.html").read_text()
    ids = re.findall(r'<section id="([\w-]+)">', html)
    assert ids[:5] == ["headline", "playlists", "clusters", "map", "metrics"], ids
    metrics = json.loads((run_dir / "metrics.json").read_text())
    missing = [k for k in metrics if f'data-metric="{k}"' not in html]
    assert not missing, missing


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian package 'chromium')")
def test_report_in_headless_chromium(run_dir):
    sync_api = pytest.importorskip("playwright.sync_api")
    report = run_dir / "report.html"
    playlists = json.loads((run_dir / "playlists" / "playlists.json").read_text())
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda req: requests.append(req.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_selector("#cluster-map .main-svg", timeout=15_000)  # plotly drew the map
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.alt])")
        title = page.title()
        first = page.eval_on_selector("main > section", "el => el.id")
        headline_top = page.eval_on_selector("#headline", "el => el.getBoundingClientRect().top")
        playlists_top = page.eval_on_selector("#playlists", "el => el.getBoundingClientRect().top")
        shown = page.eval_on_selector_all(
            "article.playlist", "els => els.map(e => [e.dataset.playlistId, e.querySelector('h3').innerText])"
        )
        points = page.eval_on_selector_all("#cluster-map .scatterlayer .point", "els => els.length")
        page.screenshot(path=str(run_dir / "report.png"), full_page=True)
        browser.close()
    assert title == "Playlist Lab report"
    assert first == "headline" and headline_top < playlists_top
    assert len(images) >= 4
    broken = [alt for complete, width, alt in images if not complete or width == 0]
    assert not broken, f"images that did not load: {broken}"
    assert sorted(pid for pid, _ in shown) == sorted(p["playlist_id"] for p in playlists)
    assert {name for _, name in shown} == {p["name"] for p in playlists}
    assert points > 0
    external = [u for u in requests if u != report.as_uri() and not u.startswith(LOCAL_SCHEMES)]
    assert not external, f"the page fetched: {external}"
    assert not errors, errors
    assert (run_dir / "report.png").stat().st_size > 10_000
