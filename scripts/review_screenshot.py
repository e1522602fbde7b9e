"""Screenshot of the review page for the README: `python scripts/review_screenshot.py WORKDIR OUT.png`.

Serves a copy of WORKDIR with the real app, makes a few editor changes through the app's own
service (an edit, a comment, a transcript fix everywhere, statuses), plays the video to the
second section, opens its transcript, and saves a 1400x900 screenshot from headless Chromium.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from v2a.config import Config
from v2a.review.hub import open_hub
from v2a.review.server import serve_in_thread

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main(src: Path, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wd = Path(tmp) / src.name
        shutil.copytree(src, wd, ignore=shutil.ignore_patterns("review.json", "glossary.json"))
        hub = open_hub(wd, lambda ws: Config(workdir=ws.root, quiet=True))
        vid = next(iter(hub.videos))
        s = hub.session(vid)
        views = s.overlay().sections
        first, second = views[0], views[1]
        s.save(first.key, 0, markdown=first.markdown.split("\n\n")[0] +
               "\n\nAn editor tightened this opening and kept the speaker's voice.")
        s.set_status(first.key, 1, "approved")
        s.set_status(second.key, 0, "reviewed")
        s.comment(second.key, second.chapter.start + 4, "Check the byte count on this slide.")
        with serve_in_thread(hub) as srv, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(srv.url)
            page.wait_for_selector("html[data-ready='1']")
            sec = page.locator(f"#s-{second.key}")
            sec.locator("details.transcript summary").click()
            page.evaluate("t => { const v = document.getElementById('player'); v.muted = true;"
                          " v.currentTime = t; }", second.chapter.start + 4)
            page.wait_for_timeout(800)
            page.evaluate("k => document.getElementById('s-' + k).scrollIntoView()", second.key)
            page.evaluate("() => { const v = document.getElementById('player');"
                          " v.dispatchEvent(new Event('timeupdate')); }")
            page.wait_for_timeout(400)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
        hub.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
