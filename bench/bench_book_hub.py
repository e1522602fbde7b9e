"""The book page of the review app over a 20-video batch: how long an editor waits for it.

`python -m bench.bench_book_hub [--videos 20]`

A generated batch (``tests/fixtures/course.py``, no media, no LLM) served by the review app on
loopback; timed over HTTP as the page's script calls it: the book page cold (every part read),
warm (all from the parts' cache), after one edit in one video (that part read again), a build
of md/html/epub/docx from the app, and the same build again (nothing to write). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=20)
    args = ap.parse_args()
    from tests.fixtures.course import make_course
    from tests.fixtures.review import call, served

    out: dict = {"videos": args.videos}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "course"
        make_course(root, args.videos)
        with served(root) as (s, hub):
            def timed(name: str, method: str, path: str, body: dict | None = None) -> None:
                t = time.perf_counter()
                status, reply = call(s, method, path, body)
                assert status == 200, reply
                out[name] = round(time.perf_counter() - t, 3)

            timed("page_cold_s", "GET", "/book/")
            timed("page_warm_s", "GET", "/book/")
            vid = list(hub.videos)[args.videos // 2]
            key = next(iter(hub.session(vid).overlay().sections)).key
            call(s, "PUT", f"/api/v/{vid}/sections/{key}", {"rev": 0, "markdown": "An edit."})
            timed("page_after_edit_s", "GET", "/book/")
            formats = ["markdown", "html", "epub", "docx"]
            timed("build_s", "POST", "/api/book/build", {"formats": formats})
            timed("build_again_s", "POST", "/api/book/build", {"formats": formats})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
