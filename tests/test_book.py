"""The book of a batch: a generated three-video course becomes book.epub/.pdf/.docx with three
parts, contents, an index whose shared terms link into several parts and cross-references;
validated as the single-article exports are. Then incremental rebuilds, the terms' method, the
series glossary and the summaries."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.course import make_course
from tests.test_exports import EPUBCHECK, has_chromium
from v2a.book import terms as T
from v2a.book.build import build_book
from v2a.book.command import parse_formats
from v2a.book.models import BookState, PartData
from v2a.book.summary import summarize
from v2a.errors import UsageError
from v2a.models import Glossary, GlossaryTerm
from v2a.workspace import write_json

ALL = ["markdown", "html", "epub", "docx", "obsidian"]


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    return root, make_course(root, 3)


def test_three_videos_become_a_valid_book(course):
    root, _ = course
    formats = ALL + (["pdf"] if has_chromium() else [])
    r = build_book(root, formats)
    assert r.parts == 3 and r.reread == 3 and set(r.written) == set(formats)
    book = root / "book"
    md = (book / "book.md").read_text()
    assert re.findall(r"^# Part (\d)\.", md, re.M) == ["1", "2", "3"]
    assert "## Contents" in md and "# Index" in md and "# Glossary" in md
    # the index: shared terms link into at least two parts
    index = md[md.index("# Index"):]
    shared = [line for line in index.splitlines()
              if len(set(re.findall(r"\[(\d)\.\d", line))) >= 2]
    assert shared, index
    # every index anchor exists in the book
    for anchor in re.findall(r"\]\(#([^)]+)\)", md):
        assert f'<a id="{anchor}"></a>' in md, anchor
    # cross-references point back to earlier parts only, a few per chapter, never in code
    assert r.crossrefs >= 2
    for line in re.findall(r"^> See also — .*$", md, re.M):
        assert line.count("in [Part") <= T.PER_CHAPTER
    for block in re.findall(r"```.*?```", md, re.S):
        assert "See also" not in block and "introduced in" not in block

    # EPUB: the container by the spec, three parts in the nav, EPUBCheck
    with zipfile.ZipFile(book / "book.epub") as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        nav = z.read("EPUB/nav.xhtml").decode()
        names = z.namelist()
    assert all(f"Part {n}." in nav for n in (1, 2, 3))
    assert sum(n.endswith(".jpg") for n in names) == 9  # three keyframes a part, inside
    if EPUBCHECK:
        import subprocess

        out = subprocess.run(["java", "-jar", EPUBCHECK, str(book / "book.epub")],
                             capture_output=True, text=True, timeout=300)
        assert "No errors or warnings detected" in out.stdout + out.stderr, out.stdout

    # DOCX: read back, the parts are headings, the keyframes are in
    import docx

    d = docx.Document(str(book / "book.docx"))
    heads = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert [h for h in heads if h.startswith("Part ")][:3] == [
        f"Part {n}. Lesson {n}: " + t for n, t in
        zip((1, 2, 3), ("Tokenizer and vocabulary", "Byte pair encoding and embedding",
                        "Attention and softmax"))]
    assert "Contents" in heads and "Index" in heads
    assert len(d.inline_shapes) == 9

    if "pdf" in formats:  # pages rendered: ink on each, every part's title in the text
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(book / "book.pdf"))
        text = ""
        for page in pdf:
            lo, hi = page.render(scale=0.4).to_pil().convert("L").getextrema()
            assert hi - lo > 100
            text += page.get_textpage().get_text_range()
        flat = " ".join(text.split())
        assert all(f"Part {n}. Lesson {n}" in flat for n in (1, 2, 3)) and "Index" in flat

    # the vault: every wikilink resolves to a note
    vault = book / "obsidian"
    notes = {p.stem for p in vault.glob("*.md")}
    for p in vault.glob("*.md"):
        for name in re.findall(r"\[\[([^|\]]+)", p.read_text()):
            assert name in notes or (vault / name).is_file(), (p.name, name)


def test_rebuild_reads_only_what_changed(course):
    root, _ = course
    build_book(root, ["markdown", "epub"])
    again = build_book(root, ["markdown", "epub"])
    assert again.reread == 0 and again.written == []
    # a re-run video: its chapters changed
    ch = root / "videos" / "02-lesson-2" / "chapters.json"
    data = json.loads(ch.read_text())
    data["chapters"][0]["markdown"] += "\n\nA new closing paragraph."
    ch.write_text(json.dumps(data))
    r = build_book(root, ["markdown", "epub"])
    assert r.reread == 1 and set(r.written) == {"markdown", "epub"}
    assert "A new closing paragraph." in (root / "book" / "book.md").read_text()
    # a video added to the batch: only it is read
    from tests.fixtures.course import make_video
    from v2a.batch.state import BatchState, EntryState
    from v2a.workspace import read_model

    make_video(root / "videos" / "04-lesson-4", 4, 4)
    state = read_model(root / "batch.json", BatchState)
    state.entries["04-lesson-4"] = EntryState(key="04-lesson-4", index=4, id="4", title="L4",
                                              url="u", workdir="videos/04-lesson-4",
                                              status="done")
    write_json(root / "batch.json", state)
    r = build_book(root, ["markdown"])
    assert r.parts == 4 and r.reread == 1
    assert "# Part 4. Lesson 4" in (root / "book" / "book.md").read_text()


def test_the_index_finds_where_terms_are_explained(course):
    root, truth = course
    build_book(root, ["markdown"])
    parts = [PartData.model_validate_json(p.read_text())
             for p in sorted((root / "book" / ".cache").glob("*.json"))]
    parts.sort(key=lambda p: p.folder)
    index = {e.term: e for e in T.build_index(parts, [])}
    # screen noise never spoken, file names and a term said once are not key terms
    assert not {"notes.txt", "github.com", "x1", "Jupyter", "never said on screen"} & set(index)
    for term, where in truth.items():
        e = index.get(term)
        if e is None or not e.home.defined:
            continue
        assert (e.home.part, e.home.chapter) == (where.part, where.chapter), term
    found = sum(1 for t, w in truth.items() if t in index and index[t].home.defined
                and (index[t].home.part, index[t].home.chapter) == (w.part, w.chapter))
    assert found >= 4  # of 6; two phrasings are outside the forms on purpose


@pytest.mark.parametrize("sentence,term,expected", [
    ("A tokenizer is the piece that turns text into integers.", "tokenizer", True),
    ("So the softmax is simply a function.", "softmax", True),
    ("This is called the vocabulary: the set of tokens.", "vocabulary", True),
    ("KV cache means the keys and values kept.", "KV cache", True),
    ("The vocabulary, which is the set of tokens, comes next.", "vocabulary", True),
    ("The tokenizer is also useful here.", "tokenizer", False),
    ("Later the attention is also going to matter.", "attention", False),
    ("We will use the tokenizer in the code below.", "tokenizer", False),
    # sentences of the committed examples' transcripts (Whisper's, with its slips)
    ("It seems a list of integers and the tokenizer is the piece that turns text into those "
     "integers and back.", "tokenizer", True),
    ("Instead we encode a string with UTF-8 which gives every character between 1 and 4 bytes.",
     "UTF-8", True),
    ("The ordered list of mergers is the tokenizer.", "tokenizer", True),
    ("Not every sequence of bytes is valid UTF-8.", "utf-8", False),
    ("Today we are going to write a tokenizer from scratch in plain python.", "tokenizer", False),
    ("That is our starting vocabulary exactly 256 possible tokens.", "vocabulary", False),
    ("Real tokenizers top somewhere around 50,000 or 100,000 mergers.", "tokenizer", False),
])
def test_definition_forms(sentence, term, expected):
    assert T.defines(sentence, term) is expected


def test_an_editors_fix_joins_the_series_glossary(course):
    root, _ = course
    write_json(root / "videos" / "01-lesson-1" / "glossary.json",
               Glossary(terms=[GlossaryTerm(term="tiktoken", variants=["tick token"])]))
    build_book(root, ["markdown"])
    pooled = json.loads((root / "glossary.json").read_text())
    assert [(t["term"], t["variants"]) for t in pooled["terms"]] == [("tiktoken", ["tick token"])]
    # the batch's glossary is what the transcribe stage applies to every video of the batch
    from v2a.glossary import editor_terms
    from v2a.workspace import Workspace

    assert "tiktoken" in [t.term for t in editor_terms(Workspace(root / "videos" / "03-lesson-3"))]


class _Reply:
    def __init__(self, text):
        self.text = text


class _LLM:
    model_name = "fake-1"

    def __init__(self, replies):
        self.replies, self.calls = list(replies), 0

    def complete(self, messages, **kw):
        self.calls += 1
        assert "Welcome and recap" in messages[0]["content"]  # from the outline
        return _Reply(self.replies.pop(0))


class _Ctx:
    def __init__(self, llm):
        from v2a.config import Config
        from v2a.progress import NullProgress

        self._llm, self.config, self.progress = llm, Config(), NullProgress()

    def llm(self):
        return self._llm


def test_summaries_one_call_per_part_at_most_then_cached(course):
    root, _ = course
    build_book(root, ["markdown"])
    parts = sorted((PartData.model_validate_json(p.read_text())
                    for p in (root / "book" / ".cache").glob("*.json")), key=lambda p: p.folder)
    state = BookState(title="c")
    llm = _LLM(["This part of the course teaches about tokens and their vocabulary, built step "
                "by step.",
                "# A heading is not a summary",
                "Attention and softmax explained."])
    out = summarize(parts, "c", state, "llm", _Ctx(llm))
    assert llm.calls == 3
    assert out[parts[0].key] == ("fake-1", "Tokens and their vocabulary, built step by step.")
    assert out[parts[1].key][0] == "outline"  # an unusable reply: the chapter titles stand in
    again = summarize(parts, "c", state, "llm", _Ctx(_LLM([])))
    assert again == out  # nothing asked again
    plain = summarize(parts, "c", BookState(title="c"), "outline", None)
    assert plain[parts[0].key] == ("outline", "Welcome and recap; Tokenizer; Vocabulary.")


def test_formats_parse_and_refuse():
    assert parse_formats(["md,html", "epub", "pdf,docx"]) == ["markdown", "html", "epub", "pdf",
                                                               "docx"]
    with pytest.raises(UsageError):
        parse_formats(["md,nope"])


def test_the_book_command(course, capsys):
    from v2a.cli import main

    root, _ = course
    with pytest.raises(SystemExit) as e:
        main(["book", str(root), "--format", "md,epub"])
    assert e.value.code in (0, None)
    assert (root / "book" / "book.epub").is_file() and (root / "book" / "book.md").is_file()
    with pytest.raises(SystemExit) as e:
        main(["book", str(root / "videos")])
    assert e.value.code == 2


def test_book_of_the_committed_examples(tmp_path):
    """Two real work folders (the examples) as a two-part book: EPUB valid, parts in order."""
    import shutil

    from v2a.batch.state import BatchState, EntryState

    root = tmp_path / "b"
    state = BatchState(input="x", playlist_id="x", title="Examples")
    for i, name in enumerate(("tokenization-lecture", "notebook-talk"), 1):
        shutil.copytree(Path(__file__).parent.parent / "examples" / name, root / "videos" / name,
                        ignore=shutil.ignore_patterns("*.mp4", "*.wav", ".v2a"))
        state.entries[name] = EntryState(key=name, index=i, id=name, title=name, url=name,
                                         workdir=f"videos/{name}", status="done")
    write_json(root / "batch.json", state)
    r = build_book(root, ["markdown", "epub"])
    assert r.parts == 2
    md = (root / "book" / "book.md").read_text()
    assert md.index("# Part 1.") < md.index("# Part 2.")
    # the shared terms: UTF-8 from the talk's screen, "tokenizer" defined in speech only
    # ("… and the tokenizer is the piece that turns text into those integers and back")
    index = md[md.index("# Index"):]
    for term in ("tokenizer", "utf-8"):
        # spelled as the screen spells it ("UTF-8") where the screen shows it
        line = next(x for x in index.splitlines() if x.lower().startswith(f"- {term}:"))
        assert {"1", "2"} <= set(re.findall(r"\[(\d)\.\d", line)), line
    assert md.count("> See also") == 2
    if EPUBCHECK:
        import subprocess

        out = subprocess.run(["java", "-jar", EPUBCHECK, str(root / "book" / "book.epub")],
                             capture_output=True, text=True, timeout=300)
        assert "No errors or warnings detected" in out.stdout + out.stderr, out.stdout


def test_batch_book_flag_makes_the_book_in_the_batch_formats(course):
    from v2a.batch.command import _build_book
    from v2a.config import Config

    root, _ = course
    line = _build_book(root, Config(formats=["markdown", "epub"]))
    assert line.startswith("book: ") and "3 parts" in line
    assert (root / "book" / "book.epub").is_file() and (root / "book" / "book.md").is_file()
    # an unfinished batch folder: a line saying so, the batch itself is not failed
    (root / "batch.json").write_text('{"title": "t", "entries": {}}')
    assert "book not built" in _build_book(root, Config())


def test_the_book_waits_for_approval_when_asked(course):
    from v2a.edits.models import Review, SectionReview
    from v2a.errors import V2AError
    from v2a.models import Outline
    from v2a.workspace import read_model

    root, _ = course
    with pytest.raises(V2AError, match=r"3 of 3 parts .* part 1, .* 0/3 approved"):
        build_book(root, ["markdown"], approved=True)
    for folder in sorted((root / "videos").iterdir()):
        outline = read_model(folder / "outline.json", Outline)
        keys = [str(c.first_segment) for c in outline.chapters]
        if folder.name.startswith("03"):
            keys = keys[:2]  # one chapter of part 3 is still a draft
        write_json(folder / "review.json", Review(sections={
            k: SectionReview(key=k, status="approved") for k in keys}))
    with pytest.raises(V2AError, match=r"1 of 3 parts .* part 3, .* 2/3 approved"):
        build_book(root, ["markdown"], approved=True)
    write_json(root / "videos" / "03-lesson-3" / "review.json", Review(sections={
        k: SectionReview(key=k, status="approved") for k in ("0", "6", "12")}))
    r = build_book(root, ["markdown"], approved=True)
    assert r.parts == 3 and r.reread == 1  # review.json is an input of its part (1, 2 read before)


# ---- the book in the review app (the batch hub) ----------------------------------------------------


def _publish_all(root: Path, hub) -> None:
    """Every chapter approved, then each video published, as an editor does."""
    for vid in hub.videos:
        s = hub.session(vid)
        for sec in s.overlay().sections:
            s.set_status(sec.key, s.review().section(sec.key).rev, "approved")
        s.publish()


def test_the_hub_shows_the_book_with_links_into_the_review_pages(course):
    from tests.fixtures.review import call, served

    root, _ = course
    (root / "videos" / "02-lesson-2" / "checks.json").write_text(json.dumps({"doubts": [
        {"id": "a", "kind": "unsure", "start": 1, "end": 2, "text": "x", "evidence": "e"},
        {"id": "b", "kind": "unsure", "start": 3, "end": 4, "text": "y", "evidence": "e"}]}))
    with served(root) as (s, _hub):
        status, index = call(s, "GET", "/")
        assert status == 200 and 'href="/book/"' in index
        status, page = call(s, "GET", "/book/")
        assert status == 200
        assert re.findall(r"Part (\d)\. <a", page) == ["1", "2", "3"]
        status, b = call(s, "GET", "/api/book")
        assert status == 200 and b["parts"] == 3 and b["index"] and b["glossary"]
        videos = b["videos"]
        assert [v["published"] for v in videos] == ["unpublished"] * 3
        assert [v["doubts"] for v in videos] == [None, 2, None]  # only part 2 was checked
        assert len(b["problems"]) == 3 and "not published" in b["problems"][0]
        # every chapter link opens its video's review page at that very section
        for v in videos:
            assert [c["title"] for c in v["chapters"]][1:] and v["chapters"][0]["number"] == 1
            status, review = call(s, "GET", v["href"])
            assert status == 200
            for c in v["chapters"]:
                path, anchor = c["href"].split("#")
                assert path == v["href"] and f'id="{anchor}"' in review, c
        # index and glossary places are chapters of the parts they name
        hrefs = {c["href"] for v in videos for c in v["chapters"]}
        places = [p for e in b["index"] for p in e["places"]]
        assert all(p["href"] in hrefs for p in places)
        assert any(len({p["part"] for p in e["places"]}) >= 2 for e in b["index"])
        # nothing is built yet; every format is offered or says what it needs
        assert not b["state"]["built"]
        assert all(f["missing"] is None or "needs" in f["missing"] for f in b["files"])


def test_the_book_is_built_from_the_edited_text_and_published_strictly(course):
    from tests.fixtures.review import call, served

    root, _ = course
    with served(root) as (s, hub):
        vid = next(iter(hub.videos))
        key = next(iter(hub.session(vid).overlay().sections)).key
        status, sec = call(s, "PUT", f"/api/v/{vid}/sections/{key}",
                           {"rev": 0, "markdown": "An editor wrote this sentence by hand."})
        assert status == 200, sec
        # building takes the current edited text: the edit is in the book
        status, r = call(s, "POST", "/api/book/build", {"formats": ["markdown", "epub"]})
        assert status == 200 and set(r["written"]) == {"markdown", "epub"}, r
        md = (root / "book" / "book.md").read_text()
        assert "An editor wrote this sentence by hand." in md
        assert any("goes in as it stands" in n for n in r["notes"])
        # strict publication refuses while a video is not published, saying which
        status, err = call(s, "POST", "/api/book/publish", {"formats": ["markdown"]})
        assert status == 400 and "“Lesson 3” is not published" in err["error"]
        assert json.loads((root / "book" / "book.json").read_text())["published_at"] is None
        # a video published anyway, its chapters not approved: the book still waits for them
        hub.session(vid).publish(force=True)
        status, err = call(s, "POST", "/api/book/publish", {"formats": ["markdown"]})
        assert status == 400 and "“Lesson 1” has 3 of 3 chapters not approved" in err["error"]
        _publish_all(root, hub)
        status, r = call(s, "POST", "/api/book/publish", {"formats": ["markdown", "epub"]})
        assert status == 200 and r["published"] and r["notes"] == [], r
        status, b = call(s, "GET", "/api/book")
        assert b["state"]["published"] and b["state"]["current"] and b["problems"] == []
        assert [v["published"] for v in b["videos"]] == ["published"] * 3
        # the file as an editor downloads it
        status, got = call(s, "GET", "/book/file/markdown")
        assert status == 200 and "An editor wrote this sentence by hand." in got
        # an edit after publishing: the book is out of date and that part "changed"
        import time

        time.sleep(1.1)  # review.json's times are in seconds
        rev = hub.session(vid).review().sections[key].rev
        call(s, "PUT", f"/api/v/{vid}/sections/{key}", {"rev": rev, "markdown": "Edited later."})
        status, b = call(s, "GET", "/api/book")
        assert b["videos"][0]["published"] == "changed" and not b["state"]["published"]
        assert not b["state"]["current"]
        status, err = call(s, "POST", "/api/book/publish", {"formats": ["markdown"]})
        assert status == 400 and "edited after it was published" in err["error"]
        status, r = call(s, "POST", "/api/book/publish", {"formats": ["markdown"], "force": True})
        assert status == 200 and r["published"] and "edited after" in r["notes"][0]
        assert "Edited later." in (root / "book" / "book.md").read_text()
        # a re-run of a published video (its chapters written again) is said too
        import os

        later = time.time() + 10
        os.utime(root / "videos" / "03-lesson-3" / "chapters.json", (later, later))
        status, b = call(s, "GET", "/api/book")
        assert b["videos"][2]["published"] == "changed"
        assert any("“Lesson 3” was generated again" in p for p in b["problems"])


def test_the_book_routes_are_guarded_and_escape_what_they_show(course, monkeypatch):
    from tests.fixtures.review import call, served
    from v2a.review import book as B

    root, _ = course
    evil = '<img src=x onerror="alert(1)">'
    with served(root) as (s, hub):
        vid = next(iter(hub.videos))
        key = next(iter(hub.session(vid).overlay().sections)).key
        call(s, "PUT", f"/api/v/{vid}/sections/{key}", {"rev": 0, "title": evil})
        status, page = call(s, "GET", "/book/")
        assert status == 200 and evil not in page and "&lt;img src=x" in page
        # the token, and the page's CSRF header for a change
        assert call(s, "GET", "/book/", token=False)[0] == 403
        assert call(s, "POST", "/api/book/build", {}, csrf=False)[0] == 403
        assert call(s, "GET", "/book/file/epub", token=False)[0] == 403
        assert call(s, "GET", "/book/file/..%2Fbatch.json")[0] == 404
        assert call(s, "GET", "/book/file/epub")[0] == 404  # not built yet
        assert call(s, "POST", "/api/book/build", {"formats": ["obsidian"]})[0] == 400
        assert call(s, "POST", "/api/book/build", {"formats": "md"})[0] == 400
        # a format whose tool is not installed is not offered, and refused when asked for
        monkeypatch.setattr(B, "missing", lambda f: "needs pandoc" if f == "docx" else None)
        status, page = call(s, "GET", "/book/")
        assert re.search(r'value="docx" disabled', page) and "needs pandoc" in page
        status, err = call(s, "POST", "/api/book/build", {"formats": ["docx"]})
        assert status == 400 and "needs pandoc" in err["error"]
        # one build at a time
        hub.book_lock.acquire()
        try:
            status, err = call(s, "POST", "/api/book/build", {"formats": ["markdown"]})
            assert status == 400 and "being built" in err["error"]
        finally:
            hub.book_lock.release()


def test_one_video_has_no_book(course):
    from tests.fixtures.review import call, served

    root, _ = course
    with served(root / "videos" / "01-lesson-1") as (s, hub):
        assert hub.root is None
        status, err = call(s, "POST", "/api/book/build", {})
        assert status == 404 and "batch folder" in err["error"]
        assert call(s, "GET", "/book/")[0] == 404


def test_the_app_keeps_the_models_summaries_without_starting_a_model(course):
    from tests.fixtures.review import call, served
    from v2a.book.summary import outline_hash
    from v2a.workspace import read_model

    root, _ = course
    build_book(root, ["markdown"])
    parts = sorted((PartData.model_validate_json(p.read_text())
                    for p in (root / "book" / ".cache").glob("*.json")), key=lambda p: p.folder)
    state_path = root / "book" / "book.json"
    state = read_model(state_path, BookState)
    state.summaries_mode = "llm"  # as `v2a book --summaries llm` left it, one part summarized
    state.summaries[outline_hash(parts[0], state.title, "llm")] = ("fake-1", "A model's words.")
    write_json(state_path, state)
    with served(root) as (s, _hub):
        status, r = call(s, "POST", "/api/book/build", {"formats": ["markdown"]})
        assert status == 200, r
    md = (root / "book" / "book.md").read_text()
    assert "A model's words." in md and "Welcome and recap; Attention; Softmax." in md
    after = read_model(state_path, BookState)
    assert after.summaries_mode == "llm"
    # the titles that stood in are not kept as the model's: the next `--summaries llm` asks
    assert outline_hash(parts[2], state.title, "llm") not in after.summaries
