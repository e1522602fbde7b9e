"""The batch site in real Chromium: full-text search finds the one article whose video said it.

Reuses the session's feed batch (tests/test_batch.py): three generated talks, of which only the
second (special tokens, regex pre-splitting) ever says "punctuation".
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fixtures.media import _QuietHandler
from tests.test_batch import feed_batch  # noqa: F401 - the shared session fixture

CHROMIUM = Path("/usr/bin/chromium")
WORD = "punctuation"  # spoken twice in talk b, never in a or c


@pytest.fixture
def site_server(feed_batch):  # noqa: F811
    """Serve the batch root (site/ plus the video folders its media links point into)."""
    root = feed_batch.root
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield feed_batch, f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(2400)
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")
def test_site_search_finds_the_article_that_said_the_word(site_server):
    from playwright.sync_api import sync_playwright

    fb, base = site_server
    b = fb.entry("b")
    assert b.status == "done"
    b_page = f"{Path(b.workdir).name}/index.html"
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])  # Playwright gives each launch a fresh profile
        try:
            page = browser.new_page()
            page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:"))
                    else outside.append(r.url))
            page.goto(f"{base}/site/index.html")
            # the playlist table of contents links every finished article
            toc = page.locator("article a[href$='/index.html']")
            assert toc.count() >= 2
            assert page.locator(f"article a[href='{b_page}']").count() == 1

            page.locator("label.md-search__icon, .md-search__input").first.click()
            # typed key by key: Material's search reacts to keyboard input, not to .fill()
            page.locator("input.md-search__input").press_sequentially(WORD, delay=30)
            results = page.locator(".md-search-result__item a")
            results.first.wait_for(timeout=30_000)
            hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
            paths = [urlsplit(h).path for h in hrefs]  # "…/index.html?h=word#section"
            assert paths and all(p_.endswith(f"/site/{b_page}") for p_ in paths), hrefs
            meta = page.locator(".md-search-result__meta").inner_text()
            assert "1 matching document" in meta, meta

            results.first.click()
            page.wait_for_url(f"**/{b_page}*")
            assert page.locator("article h1").first.inner_text().startswith(b.article_title)
            assert WORD in page.locator("article").text_content().lower()
        finally:
            browser.close()
    assert not outside, f"the site fetched from outside the loopback server: {outside}"
