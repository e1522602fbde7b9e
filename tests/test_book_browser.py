"""The batch's book in the review app, in real headless Chromium: from the batch index to the
book page, a chapter link to the exact section of its video's review page, an edit there, a
strict publication refused with the reason on the page, then published anyway; the EPUB
downloaded holds the edit. A generated three-video course (tests/fixtures/course.py): no LLM.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.browser import CHROMIUM, chromium  # noqa: F401 - the shared fixture
from tests.fixtures.course import make_course
from tests.fixtures.review import served

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300),
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")]

EDIT = "A sentence the editor wrote in the review page."


def watch(page, base: str) -> tuple[list[str], list[str]]:
    """Script errors and requests that leave the app, collected as the page runs."""
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and "Failed to load resource" not in m.text else None)
    page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:"))
            else outside.append(r.url))
    return errors, outside


def test_book_page_links_edits_and_publishes(chromium, tmp_path):  # noqa: F811
    root = tmp_path / "course"
    make_course(root, 3)
    with served(root) as (s, hub):
        ctx = chromium.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True)
        page = ctx.new_page()
        errors, outside = watch(page, s.base)
        page.goto(s.url)
        page.locator("#book-link").click()
        page.wait_for_selector("html[data-ready='1']")
        assert page.url == f"{s.base}/book/"
        parts = page.locator("li.part")
        assert parts.count() == 3
        assert page.locator("li.part h3").all_inner_texts()[1].startswith("Part 2. Lesson 2")
        assert page.locator("#index li").count() >= 3
        assert page.locator("li.part .pill", has_text="not published").count() == 3

        # a chapter of part 2 opens its video's review page at that section
        link = parts.nth(1).locator("ol.chapters a").nth(1)
        title = link.inner_text()
        href = link.get_attribute("href")
        assert href is not None and re.fullmatch(r"/v/[\w-]+/#s-\d+", href), href
        link.click()
        page.wait_for_selector("html[data-ready='1']")
        key = href.split("#s-")[1]
        target = page.locator(f"section#s-{key}")
        assert title in target.locator("h2 .title").inner_text()
        assert target.bounding_box()["y"] < 900  # scrolled to it

        # an edit in the review page (it autosaves) ...
        target.locator("button[data-act=edit]").click()
        target.locator("textarea.md").fill(EDIT)
        target.locator(".panel .saved", has_text=re.compile(r"^saved$")).wait_for()
        page.goto(f"{s.base}/book/")
        page.wait_for_selector("html[data-ready='1']")
        assert "1 edited" in page.locator("li.part").nth(1).inner_text()

        # ... a strict publication is refused, saying why, on the page
        for fmt in ("pdf", "docx"):  # the slow ones: test_book.py makes them
            box = page.locator(f"input[name=format][value={fmt}]")
            if box.is_enabled():
                box.uncheck()
        page.locator("#publish").click()
        note = page.locator("#note.error")
        note.wait_for()
        assert "book not published" in note.inner_text()
        assert "“Lesson 2” is not published" in note.inner_text()

        # ... then published anyway: the page reloads with the files and the notes
        page.locator("#force").check()
        with page.expect_navigation(timeout=60_000):
            page.locator("#publish").click()
        page.wait_for_selector("html[data-ready='1']")
        assert page.locator("#bookstate .pill").inner_text().lower() == "published"
        assert "goes in as it stands" in page.locator("#last-notes").inner_text()
        with page.expect_download() as dl:
            page.locator("li[data-format=epub] a.download").click()
        saved = Path(tmp_path / "got.epub")
        dl.value.save_as(saved)
        assert dl.value.suggested_filename.endswith(".epub")
        with zipfile.ZipFile(saved) as z:
            text = " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                            if n.endswith(".xhtml"))
        assert EDIT in text
        ctx.close()
    assert not errors, errors
    assert not outside, outside
    assert hub.root == root
