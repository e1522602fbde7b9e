"""The render stage on given artifacts (real JPEG keyframes): structure, times, links, safety."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown
import pytest
from markdown_it import MarkdownIt

from tests.fixtures.render import context, synthetic_workdir
from v2a.errors import V2AError
from v2a.models import Outline, Scenes, Source
from v2a.render import sanitize
from v2a.render.stage import fingerprint, run
from v2a.workspace import read_model

HEADING = re.compile(r"^## \[(?P<text>.+)\]\((?P<href>[^)]+)\)$", re.M)
IMAGE = re.compile(r"\[!\[[^\]]*\]\((?P<src>[^)]+)\)\]\((?P<href>[^)]+)\)")
LINK = re.compile(r"(?<!\\)\]\((?P<href>[^)\s]+)\)")


class Page(HTMLParser):
    """Elements of a rendered page, each tagged with the chapter section it sits in."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[tuple[str, dict, str | None]] = []
        self.section: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id")
        self.elements.append((tag, a, self.section))

    def handle_endtag(self, tag):
        if tag == "section":
            self.section = None

    def all(self, tag: str) -> list[dict]:
        return [a for t, a, _ in self.elements if t == tag]

    def within(self, section: str, tag: str) -> list[dict]:
        return [a for t, a, s in self.elements if t == tag and s == section]


def seconds(href: str) -> int:
    m = re.search(r"[#&?]t=(\d+)s?$", href)
    assert m, f"no timestamp in {href}"
    return int(m.group(1))


def resolves(root: Path, href: str) -> bool:
    path = unquote(urlsplit(href).path)
    return (root / path).resolve().is_file()


def md_sections(md: str) -> list[str]:
    """The Markdown of each chapter section (from its heading to the next, footer excluded)."""
    starts = [m.start() for m in HEADING.finditer(md)] + [md.rindex("\n---\n")]
    return [md[a:b] for a, b in zip(starts, starts[1:])]


def render(ws, **config):
    run(context(ws, **config))
    return ws.path("article.md").read_text("utf-8"), ws.path("article.html").read_text("utf-8")


@pytest.fixture
def work(tmp_path):
    return synthetic_workdir(tmp_path / "work")


def test_markdown_sections_times_images_and_links(work):
    md, _ = render(work)
    outline = read_model(work.path("outline.json"), Outline)
    scenes = {s.keyframe: s for s in read_model(work.path("scenes.json"), Scenes).scenes}
    heads = list(HEADING.finditer(md))
    assert [h["text"] for h in heads] == [f"{c.index + 1}. {c.title}".replace("&", "&amp;")
                                          for c in outline.chapters]
    sections = md_sections(md)
    assert len(sections) == len(outline.chapters) == 3
    shown = set()
    for ch, head, sec in zip(outline.chapters, heads, sections):
        t = seconds(head["href"])
        assert int(ch.start) <= t < ch.end, (ch.title, t)
        for img in IMAGE.finditer(sec):
            sc = scenes[unquote(img["src"])]
            ti = seconds(img["href"])
            assert ch.start - 1 < ti < ch.end and sc.start - 1 < ti < sc.end, (img["src"], ti)
            assert sc.start < ch.end and sc.end > ch.start  # the picture is from this chapter
            shown.add(sc.index)
    # every distinct slide that overlaps a chapter is shown once; the duplicate (3) and the
    # slide after the last chapter (6) are not
    assert shown == {0, 1, 2, 4, 5}
    # TOC anchors are GitHub's heading slugs (an independent expectation, not our slugger)
    assert re.findall(r"\]\(#([^)]+)\)", md) == ["1-why-tokens", "2-bytes--utf-8",
                                                "3-byte-pair-encoding"]
    # every relative link/image points to a file that exists (spaces are %-encoded)
    rel = [h for h in LINK.findall(md) if not h.startswith(("http", "#"))]
    assert rel and all(resolves(work.root, h) for h in rel), rel
    assert "media/talk%20video.mp4#t=30" in md


def test_transcript_and_llm_html_never_leak_as_markup(work):
    md, _ = render(work)
    for html in (markdown.markdown(md, extensions=["md_in_html", "fenced_code", "tables"]),
                 MarkdownIt("commonmark").render(md)):  # Python-Markdown and a CommonMark reader
        page = Page(html)
        assert not page.all("script")
        assert all(a.get("src") != "x" and "onerror" not in a for a in page.all("img"))
        assert not [a for a in page.all("a") if a.get("href", "").startswith("javascript")]
        assert "&lt;img src=x onerror=" in html  # the trap is shown to the reader as text
    # the transcript's timestamp links still render inside <details>
    md_html = markdown.markdown(md, extensions=["md_in_html"])
    assert '<a href="media/talk%20video.mp4#t=30">0:30</a> Sentence 6' in md_html
    # code keeps its characters verbatim
    assert "print('&lt;script&gt;not run&lt;/script&gt;')" in markdown.markdown(
        md, extensions=["fenced_code"])
    assert "*stars*" not in md and r"\*stars\*" in md


def test_html_is_sanitised_and_scripts_are_only_ours(work):
    _, html = render(work)
    page = Page(html)
    scripts = [m.group(1) for m in re.finditer(r"<script>(.*?)</script>", html, re.S)]
    assert len(page.all("script")) == len(scripts) == 1  # our inline player script only
    assert "onerror" not in re.sub(r"&lt;.*?&gt;", "", html)  # only as escaped visible text
    assert not [a for t, a, _ in page.elements for k in a if k.startswith("on")]
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html  # title shown, inert
    assert "<i>Lovelace</i>" not in html and "<b>x</b>" not in html
    # CSP allows exactly our script by hash, no other script origin for local media
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = next(a["content"] for a in page.all("meta") if a.get("http-equiv") ==
               "Content-Security-Policy")
    assert csp.startswith(f"script-src 'sha256-{digest}';") and "object-src 'none'" in csp
    assert not [a for a in page.all("a") if not a.get("href", "").startswith(("http", "#", "media/"))]
    # LLM images are dropped (no remote fetches), LLM headings sit below the chapter heading
    assert all(not a["src"].startswith("http") for a in page.all("img"))
    assert not page.all("h1")[1:] and "A top-level heading from the LLM</h3>" in html


def test_html_sections_links_and_player(work):
    _, html = render(work)
    outline = read_model(work.path("outline.json"), Outline)
    page = Page(html)
    secs = page.all("section")
    assert len(secs) == len(outline.chapters)
    toc = [a["href"][1:] for a in page.all("a") if a.get("class") == "title"]
    assert toc == [s["id"] for s in secs]
    for ch, sec in zip(outline.chapters, secs):
        links = [a for a in page.within(sec["id"], "a") if "data-t" in a]
        assert links and all(int(a["data-t"]) == seconds(a["href"]) for a in links)
        head = links[0]
        assert int(ch.start) <= int(head["data-t"]) < ch.end
        for a in page.within(sec["id"], "a"):
            if a.get("class") == "shot":
                assert ch.start - 1 < int(a["data-t"]) < ch.end
        for img in page.within(sec["id"], "img"):
            assert resolves(work.root, img["src"]) and img["width"] == "640"
    video = page.all("video")
    assert len(video) == 1 and resolves(work.root, video[0]["src"])
    assert "youtube.com" not in html  # offline page: no YouTube API for local media


def test_failed_chapter_shows_placeholder_and_open_transcript(work):
    md, html = render(work)
    sec = md_sections(md)[1]
    assert "could not be written" in sec and "LLM timed out &lt;b&gt;x&lt;/b&gt;" in sec
    assert '<details open markdown="1">' in sec and "Sentence 6 about bytes: UTF-8 turns" in sec
    failed = re.search(r'<section class="chapter failed".*?</section>', html, re.S).group(0)
    assert "could not be written" in failed and '<details class="transcript" open>' in failed


def test_self_contained_embeds_images(work):
    _, html = render(work, self_contained=True)
    imgs = Page(html).all("img")
    assert len(imgs) == 5
    for img in imgs:
        assert img["src"].startswith("data:image/jpeg;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1])[:3] == b"\xff\xd8\xff"  # a JPEG
    shutil.rmtree(work.root / "keyframes")  # the page no longer needs the files
    assert "keyframes/" not in html and not re.search(r'src="https?:', html)


def test_youtube_links_and_player(tmp_path):
    ws = synthetic_workdir(tmp_path / "yt", extractor="youtube")
    md, html = render(ws)
    heads = [h["href"] for h in HEADING.finditer(md)]
    assert heads == [f"https://www.youtube.com/watch?v=dQw4w9WgXcQ&t={t}s" for t in (0, 30, 60)]
    assert all(h.startswith("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=")
               for h in [m["href"] for m in IMAGE.finditer(md)])
    page = Page(html)
    assert [a for a in page.all("div") if a.get("data-yt") == "dQw4w9WgXcQ"]
    assert [a for a in page.all("script") if a.get("src") == "https://www.youtube.com/iframe_api"]
    assert not page.all("video") and "https://www.youtube.com" in next(
        a["content"] for a in page.all("meta") if a.get("http-equiv"))
    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=30s"' in html


def test_audio_only_has_audio_player_and_no_images(tmp_path):
    ws = synthetic_workdir(tmp_path / "audio", audio_only=True)
    md, html = render(ws)
    page = Page(html)
    assert page.all("audio") and not page.all("video") and not page.all("img")
    assert not IMAGE.search(md)


def test_media_outside_the_work_folder_is_linked_relatively(tmp_path):
    ws = synthetic_workdir(tmp_path / "out" / "work")
    media = tmp_path / "videos" / "my talk.mp4"
    media.parent.mkdir()
    media.write_bytes(b"\0")
    src = read_model(ws.path("source.json"), Source)
    ws.path("source.json").write_text(src.model_copy(update={"media_path": str(media)})
                                      .model_dump_json())
    md, html = render(ws)
    assert "../../videos/my%20talk.mp4#t=30" in md
    assert resolves(ws.root, Page(html).all("video")[0]["src"])


def test_missing_artifact_is_a_one_line_error(work):
    work.path("outline.json").unlink()
    with pytest.raises(V2AError, match="render needs outline.json"):
        run(context(work))


def test_fingerprint_covers_templates(work):
    fp = fingerprint(context(work))
    assert set(fp) == {"render"} and fp == fingerprint(context(work))
    tpl = Path(sanitize.__file__).parent / "templates"
    assert {p.name for p in tpl.iterdir()} >= {"article.html.j2", "article.css", "article.js"}


@pytest.mark.parametrize("src, expect", [
    ("a <b>bold</b> x", "a &lt;b>bold&lt;/b> x"),
    ("keep `<b>` and ``a ` <i>``", "keep `<b>` and ``a ` <i>``"),
    ("a ` b\nc ` <script> `", "a ` b\nc ` &lt;script> `"),  # spans cross lines, like CommonMark
    ("x < y and 1<2", "x < y and 1<2"),
    ("# Title\n## Sub", "### Title\n### Sub"),
    ("```\n<script>\n# not a heading\n```", "```\n<script>\n# not a heading\n```"),
    ("text\n\n    <b>indented code</b>", "text\n\n    <b>indented code</b>"),
    ("- item\n\n    <b>list text</b>", "- item\n\n    &lt;b>list text&lt;/b>"),
    ("![a](http://x/y.png)", "\\![a](http://x/y.png)"),
    (r"\`<i>\`", r"\`&lt;i>\`"),
    ("[ok](https://a.b) [bad](javascript:alert(1)) [x]( <vbscript:y>)",
     r"[ok](https://a.b) [bad]\(javascript:alert(1)) [x]\( &lt;vbscript:y>)"),
    ("[r]: javascript:alert(1)", r"\[r]: javascript:alert(1)"),
])
def test_md_prose_escapes_html_outside_code(src, expect):
    assert sanitize.md_prose(src) == expect


def test_prose_html_sanitises_even_unescaped_markdown():
    """The second layer: nh3 after the markdown package, for anything md_prose let through."""
    html = sanitize.prose_html("[x](javascript:alert(1)) <img src=x onerror=alert(1)> "
                               "<script>alert(1)</script> ![i](http://e.x/i.png) "
                               '<a href="https://ok.test" onclick="alert(1)">ok</a>\n\n# big')
    page = Page(html)
    assert not page.all("script") and not page.all("img") and not page.all("h1")
    assert [a.get("href") for a in page.all("a")] == [None, "https://ok.test"]
    assert "onclick" not in html and "onerror" not in html and "alert(1)</script>" not in html


def test_md_text_and_safe_href():
    assert sanitize.md_text("a *b* [c](d) <e> & `f`\n# g") == r"a \*b\* \[c\](d) &lt;e&gt; &amp; \`f\` # g"
    assert sanitize.safe_href("javascript:alert(1)") == "#"
    assert sanitize.safe_href("https://x.test/a b)<") == "https://x.test/a%20b%29%3C"
    assert sanitize.safe_href("media/a%20b.mp4#t=3") == "media/a%20b.mp4#t=3"


def test_runner_caches_render_and_reruns_on_self_contained(work):
    from v2a.pipeline import run_stage

    assert run_stage(context(work), "render").status == "ran"
    assert run_stage(context(work), "render").status == "cached"
    assert run_stage(context(work, self_contained=True), "render").status == "ran"
    assert "data:image/jpeg;base64," in work.path("article.html").read_text("utf-8")
    assert [e["action"] for e in work.stage_log() if e["stage"] == "render"] == \
        ["ran", "cached", "ran"]
