"""The article in real Chromium: timestamps and images seek the <video>; injections stay inert.

The work folder is the generated lecture (real video, keyframes cut from it) with given
transcript/outline/prose, served over loopback HTTP so the video loads with byte ranges.
"""

from __future__ import annotations

import pytest

from tests.fixtures.browser import CHROMIUM
from tests.fixtures.render import XSS_IMG, context, lecture_workdir
from v2a.render.stage import run

TITLE = "Tokenization <script>window.__pwned=1</script> explained"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300),
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed")]


@pytest.fixture
def served(lecture, http_root):
    root, base = http_root
    ws = lecture_workdir(root, lecture, title=TITLE, extra_prose=f"A trap: {XSS_IMG}")
    run(context(ws))
    return ws, f"{base}/article.html"


def open_page(chromium, url: str, **ctx):
    context_ = chromium.new_context(viewport={"width": 1400, "height": 900}, **ctx)
    page = context_.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    host = url.split("/article.html")[0]
    page.on("request", lambda r: None if r.url.startswith((host, "data:")) else outside.append(r.url))
    page.goto(url)
    return page, problems, outside


def video_at(page, t: float) -> None:
    """Wait until the player has sought to ``t`` (±0.5 s; it plays on from there)."""
    page.wait_for_function(
        "t => { const v = document.querySelector('video');"
        " return !v.seeking && v.readyState >= 1 && Math.abs(v.currentTime - t) < 0.5; }",
        arg=t, timeout=15000)


def test_timestamps_and_images_seek_the_video(chromium, served, lecture):
    _ws, url = served
    page, problems, outside = open_page(chromium, url)
    try:
        page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=15000)
        assert page.evaluate("document.querySelector('video').currentTime") < 0.5
        # a section's timestamp: chapter 3 starts at its first slide
        chip = page.locator("section.chapter").nth(2).locator(".when a")
        t = int(chip.get_attribute("data-t"))
        assert t == int(lecture.chapters[2]["start"]) and t > 0
        assert chip.get_attribute("href").endswith(f"media/lecture.mp4#t={t}")
        chip.click()
        video_at(page, t)
        # an image in the last section seeks to its own second, which lies in that section
        sec = page.locator("section.chapter").nth(3)
        shot = sec.locator("figure a.shot").last
        ts = int(shot.get_attribute("data-t"))
        start, end = float(sec.get_attribute("data-start")), float(sec.get_attribute("data-end"))
        assert int(start) <= ts < end and ts != t
        shot.click()
        video_at(page, ts)
        # a transcript line's timestamp (inside a collapsed <details>, opened first)
        first = page.locator("section.chapter").nth(1)
        first.locator("details.transcript summary").click()
        line = first.locator("details.transcript a.ts").first
        tl = int(line.get_attribute("data-t"))
        line.click()
        video_at(page, tl)
        assert page.url == url  # JS seeked; nothing navigated away
        # the contents marks the chapter that is playing (and only that one)
        playing = f".toc li.playing[data-section='{first.get_attribute('id')}']"
        page.wait_for_selector(playing, timeout=5000)
        assert page.locator(".toc li.playing").count() == 1
        assert problems == [] and outside == []
    finally:
        page.context.close()


def test_title_script_and_onerror_in_text_do_not_run(chromium, served):
    _ws, url = served
    page, problems, outside = open_page(chromium, url)
    try:
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)  # give a broken <img onerror> time to fire, had it survived
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.title() == TITLE  # shown to the reader as text
        assert "<script>window.__pwned=1</script>" in page.locator("h1").inner_text()
        assert XSS_IMG in page.locator("section.chapter").first.inner_text()
        assert page.locator("img[src='x']").count() == 0
        assert problems == [] and outside == []
    finally:
        page.context.close()


def test_links_still_work_without_javascript(chromium, served):
    _ws, url = served
    page, _problems, _ = open_page(chromium, url, java_script_enabled=False)
    try:
        chip = page.locator("section.chapter").nth(1).locator(".when a")
        t = chip.get_attribute("data-t")
        chip.click()
        page.wait_for_url(f"**/media/lecture.mp4#t={t}", timeout=10000)
    finally:
        page.context.close()
