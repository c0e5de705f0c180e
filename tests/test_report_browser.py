"""Open a real report.html in headless Chromium: every image loads and the console shows no error."""

from __future__ import annotations

import shutil

import pytest

from helpers import TINY, run_script

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory, bundled_sample):
    run_dir = tmp_path_factory.mktemp("report") / "run"
    result = run_script(
        "pipeline.py", *TINY, "data=bundled", f"data.path={bundled_sample}", f"hydra.run.dir={run_dir}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir / "report.html"


def test_report_is_self_contained(report):
    html = report.read_text()
    assert html.count("<img") >= 6 and html.count('src="data:image/png;base64,') == html.count("<img")
    assert "http://" not in html and "https://" not in html
    for section in ("Metrics", "Figures", "Clusters", "Playlists", "Most different"):
        assert section in html


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian package 'chromium')")
def test_report_in_headless_chromium(report):
    sync_api = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
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
        page = browser.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.alt])")
        title = page.title()
        browser.close()
    assert title == "Playlist Lab report"
    assert len(images) >= 6
    broken = [alt for complete, width, alt in images if not complete or width == 0]
    assert not broken, f"images that did not load: {broken}"
    assert not errors, errors
