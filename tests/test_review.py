"""The review layer's logic, fast: edits apart from generated text, revisions and conflicts,
atomic saves, splits/merges that rewrite only their sections, regeneration as one uncached call,
transcript fixes with a glossary, publishing, and the app's guards (token, Host, CSRF).

The LLM here is ``ScriptedLLM`` (logic only); tests/test_review_browser.py proves the features
with the real model in real Chromium.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.render import XSS_IMG, context, synthetic_workdir
from tests.fixtures.review import call, served
from v2a import glossary
from v2a.config import Config
from v2a.edits.models import Structure
from v2a.edits.store import Conflict
from v2a.edits.structure import apply_structure, section_key
from v2a.errors import V2AError
from v2a.llm.base import LLMHandle, current_seed
from v2a.llm.scripted import ScriptedLLM, scripted_handle
from v2a.models import ChapterText, Draft, Outline, Respelling, Transcript
from v2a.pipeline import run_stage
from v2a.review.service import ReviewSession
from v2a.stage import StageContext
from v2a.workspace import Workspace, read_model, write_json

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return synthetic_workdir(tmp_path / "w")


def session(ws: Workspace, reply: str = "A new text, written again.", **cfg):
    h = scripted_handle(default=reply)
    return ReviewSession(ws, Config(workdir=ws.root, quiet=True, **cfg), llm_handle=h), h.llm


def written(ws: Workspace, reply: str = "Generated prose of this chapter.", model: str = "scripted",
            **cfg):
    """Run the real write stage over the folder with a scripted model (fills the call cache)."""
    llm = ScriptedLLM(default=reply, cache_id=model, model_name=model)
    h = LLMHandle(llm=llm, base_url=None, model_name=model, kind="scripted")
    ctx = StageContext(ws=ws, config=Config(workdir=ws.root, quiet=True, **cfg), src=str(ws.root),
                       llm_handle=h)
    rep = run_stage(ctx, "write")
    ctx.close()
    return rep, h.llm


# --- edits, revisions, conflicts ------------------------------------------------------------------


def test_an_edit_lives_apart_with_its_base_and_a_stale_revision_conflicts(ws):
    s, _ = session(ws)
    before = ws.path("chapters.json").read_bytes()
    rec = s.save("0", 0, title="Why tokens matter", markdown="My own words.")
    assert (rec.rev, rec.title, rec.markdown) == (1, "Why tokens matter", "My own words.")
    assert rec.base_title == "Why tokens" and rec.base_markdown.startswith("## Why tokens")
    assert rec.base_sha and len(rec.base_sha) == 64
    assert ws.path("chapters.json").read_bytes() == before  # generated text untouched
    with pytest.raises(Conflict):  # a second tab still on revision 0
        s.save("0", 0, markdown="Other words.")
    assert s.review().sections["0"].markdown == "My own words."
    # one editor's autosaves a moment apart are one version; the generated text is version 1
    s.save("0", 1, markdown="My own words, better.", editor="tab-1")
    s.save("0", 2, markdown="My own words, better still.", editor="tab-1")
    assert [v.kind for v in s.review().sections["0"].history] == ["generated", "edit", "edit"]
    assert s.review().sections["0"].history[-1].markdown == "My own words, better still."
    # another tab's save is a version of its own
    s.save("0", 3, markdown="The other tab's words.", editor="tab-2")
    assert [v.markdown for v in s.review().sections["0"].history][-2:] == [
        "My own words, better still.", "The other tab's words."]


def test_saving_the_generated_text_back_is_no_edit(ws):
    s, _ = session(ws)
    s.save("12", 0, title="Something else")
    rec = s.save("12", 1, title="Byte pair encoding")
    assert not rec.edited and rec.base_sha is None


def test_a_kill_mid_save_leaves_the_previous_review(ws, monkeypatch):
    s, _ = session(ws)
    s.save("0", 0, markdown="Saved first.")
    good = ws.path("review.json").read_bytes()

    def killed(*a, **k):
        raise KeyboardInterrupt  # the process dies between writing the temp file and renaming

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        s.save("0", 1, markdown="Never renamed into place.")
    monkeypatch.undo()
    assert ws.path("review.json").read_bytes() == good
    assert not [p for p in ws.root.iterdir() if p.name.startswith(".review.json.")]
    assert s.review().sections["0"].markdown == "Saved first."


def test_a_damaged_review_is_never_replaced(ws):
    ws.path("review.json").write_text("{ not json")
    s, _ = session(ws)
    with pytest.raises(V2AError, match="damaged"):
        s.save("0", 0, markdown="x")
    assert ws.path("review.json").read_text() == "{ not json"


def test_history_restore_and_images(ws):
    s, _ = session(ws)
    s.save("0", 0, markdown="First edit.")
    rec = s.save("0", 1, images=[1])
    assert rec.images == [1]
    with pytest.raises(V2AError, match="time range"):
        s.save("0", 2, images=[5])  # a keyframe of the last section
    rec = s.restore("0", 2, 1)  # the generated version
    assert rec.markdown is None and rec.history[-1].kind == "restored"
    assert s.view("0").markdown.startswith("## Why tokens")


# --- the article: render and publish apply the edits -----------------------------------------------


def test_render_applies_edits_and_rerenders_only_when_they_change(ws):
    s, _ = session(ws)
    s.save("0", 0, title="Tokens, edited", markdown=f"Edited prose {XSS_IMG} stays text.")
    s.save("6", 0, markdown="Written by hand for the chapter whose text failed.")
    s.save("0", 1, images=[1])
    ctx = context(ws)
    assert run_stage(ctx, "render").status == "ran"
    md = ws.path("article.md").read_text()
    assert "## [1. Tokens, edited]" in md and "Edited prose &lt;img" in md
    assert "Written by hand for the chapter" in md and "could not be written" not in md
    sec1 = md.split("## [1.")[1].split("## [2.")[0]
    assert "scene-001.jpg" in sec1 and "scene-000.jpg" not in sec1  # the chosen keyframe only
    assert "Sections edited by hand: 2/3" in md
    html = ws.path("article.html").read_text()
    assert "Edited prose" in html and "<img src=x" not in html
    assert run_stage(context(ws), "render").status == "cached"
    s.set_status("0", 2, "approved")  # status is not content: no re-render
    assert run_stage(context(ws), "render").status == "cached"
    s.save("12", 0, markdown="Another edit.")
    assert run_stage(context(ws), "render").status == "ran"


def test_publish_waits_for_approval_unless_forced(ws):
    s, _ = session(ws)
    s.save("12", 0, markdown="The editor's last words.")
    with pytest.raises(V2AError, match="3 of 3 sections are not approved"):
        s.publish()
    for key in ("0", "6", "12"):
        s.set_status(key, s.review().section(key).rev, "approved")
    files = s.publish()
    assert [f.name for f in files] == ["article.md", "article.html"]
    assert "The editor's last words." in ws.path("article.md").read_text()
    assert s.review().published_at


def test_publish_cli_is_one_line_and_writes_the_edits(ws):
    s, _ = session(ws)
    s.save("0", 0, markdown="From the editor, via the CLI.")
    cli = [sys.executable, str(ROOT / "cli.py"), "publish", str(ws.root)]
    res = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "not approved" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = subprocess.run(cli + ["--force", "--format", "markdown"], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "From the editor, via the CLI." in ws.path("article.md").read_text()
    assert not ws.path("article.html").exists()


# --- re-runs keep edits -----------------------------------------------------------------------------


def test_a_rewrite_keeps_the_edit_and_shows_the_base_moved(ws):
    written(ws, "The first model's prose.")
    s, _ = session(ws)
    s.save("12", 0, markdown="The editor's prose.")
    # a new model: the write stage runs again and every generated text changes
    rep, llm = written(ws, "A second model's prose.", model="another-model", force=["write"])
    assert rep.status == "ran" and len(llm.calls) == 3
    v = s.view("12")
    assert v.generated_markdown == "A second model's prose." and v.markdown == "The editor's prose."
    assert v.base_changed and v.review.base_markdown == "The first model's prose."
    assert not s.view("0").base_changed  # not edited: simply the new text
    run_stage(context(ws), "render")
    assert "The editor's prose." in ws.path("article.md").read_text()
    rec = s.keep_edit("12", v.review.rev)
    assert not s.view("12").base_changed and rec.base_markdown == "A second model's prose."


# --- the model: regenerate, split, merge -----------------------------------------------------------


def test_regenerate_is_one_uncached_call_with_the_instruction(ws):
    written(ws)
    s, llm = session(ws, "Shorter prose.")
    p = s.regenerate("0", "shorter, keep the code exact")
    assert len(llm.calls) == 1 and p.markdown == "Shorter prose."
    # the request is made of the current text (shown), not of the transcript again
    prompt = llm.calls[0].prompt
    assert "The editor asks: shorter, keep the code exact" in prompt
    assert '"""\nGenerated prose of this chapter.\n"""' in prompt
    s.regenerate("0")  # the same again: a new call, not the cache
    assert len(llm.calls) == 2 and llm.calls[1].temperature >= 0.7
    rec = s.review().sections["0"]
    assert rec.proposal is not None and rec.markdown is None  # nothing changes until accepted
    rec = s.accept("0", rec.rev, rec.proposal.id)
    assert rec.markdown == "Shorter prose." and rec.proposal is None
    assert rec.history[-1].kind == "regenerated"


def test_a_regenerated_text_unchanged_is_asked_again_warmer(ws):
    written(ws)
    same = "Generated prose of this chapter."
    s, llm = session(ws)
    llm.replies[:] = [same, "A shorter text."]
    p = s.regenerate("0", "shorter")
    assert p.markdown == "A shorter text." and len(llm.calls) == 2
    assert llm.calls[1].temperature >= 0.7 and "shorter" in llm.calls[1].prompt
    # unchanged three times: said plainly, and no proposal waits
    llm.replies[:] = [same, " generated  PROSE of this chapter ", same]
    with pytest.raises(V2AError, match="section 1 could not be rewritten: the model returned "
                                       "the text unchanged"):
        s.regenerate("0", "shorter")
    assert s.review().sections["0"].proposal is not None  # the first proposal is still open
    assert s.review().sections["0"].proposal.markdown == "A shorter text."


def test_a_reply_that_prints_as_the_current_text_is_not_a_proposal(ws):
    # the screen's term is kept in print ("get stats" -> get_stats): a reply that differs only
    # there is the current text again, and the editor must not be shown an empty diff (CI, stop 28)
    t = read_model(ws.path("transcript.json"), Transcript)
    t.respellings.append(Respelling(heard="get stats", term="get_stats", start=0.4, end=1.0,
                                    how="spelling", score=90.0))
    write_json(ws.path("transcript.json"), t)
    written(ws, reply="We call get_stats on the tokens.")
    s, llm = session(ws)
    llm.replies[:] = ["We call get stats on the tokens.", "A shorter text."]
    p = s.regenerate("0", "shorter")
    assert p.markdown == "A shorter text." and len(llm.calls) == 2
    llm.replies[:] = ["We call get stats on the tokens."] * 3
    with pytest.raises(V2AError, match="the model returned the text unchanged"):
        s.regenerate("0", "shorter")


def test_each_regeneration_samples_with_its_own_seed(ws):
    # the embedded server samples with one fixed seed: asked twice for a new version of the
    # same section, the editor must get two samples, not the same text twice
    written(ws)
    s, llm = session(ws, "Another text.")
    seeds = []
    raw = llm.raw
    llm.raw = lambda *a, **k: (seeds.append(current_seed()), raw(*a, **k))[1]
    s.regenerate("0")
    s.regenerate("0")
    assert len(seeds) == 2 and None not in seeds and seeds[0] != seeds[1]
    assert current_seed() is None


def test_an_instruction_on_a_stale_section_writes_from_the_fixed_transcript(ws):
    # revising the current text would keep the misheard word the editor just fixed
    written(ws)
    s, llm = session(ws, "A new text.")
    seg = read_model(ws.path("transcript.json"), Transcript).segments[0]
    s.fix_line(seg.id, seg.text.rstrip(".") + " Zanzibar.")
    assert s.review().sections["0"].stale
    s.regenerate("0", "shorter")
    prompt = llm.calls[-1].prompt
    assert "Zanzibar" in prompt and "The editor asks" not in prompt
    assert "The editor of the article asks for this chapter: shorter" in prompt


def test_a_proposal_equal_to_the_text_shown_now_is_never_offered(ws, monkeypatch):
    # whatever the writer compared its reply with, the app compares the proposal once more with
    # the text the editor sees when it is stored (CI showed a proposal with an empty diff)
    written(ws)
    s, _ = session(ws)
    shown = s.view("0").markdown
    monkeypatch.setattr(s, "_write", lambda *a, **k: [ChapterText(
        index=0, title="t", start=0.0, end=1.0, markdown=f"**{shown.upper()}**")])
    with pytest.raises(V2AError, match="section 1 could not be rewritten: the model returned "
                                       "the text unchanged"):
        s.regenerate("0", "shorter")
    assert s.review().sections.get("0") is None or s.review().sections["0"].proposal is None


def test_split_and_merge_rewrite_only_their_sections(ws):
    written(ws)
    s, llm = session(ws, "Prose of a new cut.")
    keys = s.split("12", 0, 15, "Merging in practice")
    assert keys == ["12", "15"] and len(llm.calls) == 2
    outline = read_model(ws.path("outline.json"), Outline)
    assert [(c.first_segment, c.last_segment) for c in outline.chapters] == \
        [(0, 5), (6, 11), (12, 14), (15, 17)]
    assert outline.chapters[3].title == "Merging in practice"
    draft = read_model(ws.path("chapters.json"), Draft)
    assert [c.markdown for c in draft.chapters] == [
        "Generated prose of this chapter.", "Generated prose of this chapter.",
        "Prose of a new cut.", "Prose of a new cut."]
    # the pipeline's own write stage now finds every chapter in the call cache
    rep, again = written(ws, force=["write"])
    assert rep.status == "ran" and again.calls == []
    assert read_model(ws.path("chapters.json"), Draft).chapters[3].markdown == "Prose of a new cut."
    keys = s.merge("0", 0)
    assert keys == ["0"] and len(llm.calls) == 3
    outline = read_model(ws.path("outline.json"), Outline)
    assert [c.first_segment for c in outline.chapters] == [0, 12, 15]
    assert s.review().structure == Structure(added={"15": "Merging in practice"}, removed=[6])


def test_a_split_the_model_declines_keeps_the_cut_with_unwritten_sections(ws):
    """A refusal (the 1.5B model sometimes declines) fails the halves' text, not the cut."""
    written(ws)
    s, llm = session(ws, "I'm sorry, but I can't assist with that.")
    assert s.split("12", 0, 15, "Merging in practice") == ["12", "15"]
    outline = read_model(ws.path("outline.json"), Outline)
    assert [c.first_segment for c in outline.chapters] == [0, 6, 12, 15]
    draft = read_model(ws.path("chapters.json"), Draft)
    assert [c.status for c in draft.chapters] == ["ok", "ok", "failed", "failed"]
    assert "declined" in (draft.chapters[3].error or "") and len(llm.calls) == 6  # two retries each


def test_a_split_keeps_the_old_edit_in_history(ws):
    written(ws)
    s, _ = session(ws)
    s.save("12", 0, markdown="Edited before the split.")
    s.split("12", 1, 15, "Second half")
    rec = s.review().sections["12"]
    assert rec.markdown is None and rec.history[-1].kind == "split"
    assert rec.history[-1].markdown == "Edited before the split."


def test_structure_survives_a_new_outline(ws):
    """The outline stage applies the editor's cuts over whatever it generates."""
    outline = read_model(ws.path("outline.json"), Outline)
    tr = read_model(ws.path("transcript.json"), Transcript)
    cuts = Structure(added={"9": "Editor's cut", "0": "Renamed start"}, removed=[12])
    once = apply_structure(outline, tr, cuts)
    assert [(c.index, c.first_segment, c.last_segment, c.title) for c in once.chapters] == [
        (0, 0, 5, "Renamed start"), (1, 6, 8, "Bytes & UTF-8"), (2, 9, 17, "Editor's cut")]
    assert once.chapters[1].end == once.chapters[2].start == tr.segments[9].start
    assert apply_structure(once, tr, cuts).chapters == once.chapters  # idempotent


# --- the transcript -------------------------------------------------------------------------------


def test_fixing_a_line_offers_everywhere_fills_the_glossaries_and_marks_stale(tmp_path):
    root = tmp_path / "batch"
    root.mkdir()
    (root / "batch.json").write_text("{}")
    ws = synthetic_workdir(root / "videos" / "talk")
    tr = read_model(ws.path("transcript.json"), Transcript)
    for i in (1, 8, 14):
        tr.segments[i].text = f"We use parent coding here {i}."
    write_json(ws.path("transcript.json"), tr)
    s, _ = session(ws)
    r = s.fix_line(1, "We use byte pair encoding here 1.")
    assert r["changes"] == [{"find": "parent coding", "replace": "byte pair encoding",
                             "elsewhere": 2}]
    assert s.review().sections["0"].stale  # its text was written from the old line
    r = s.replace_everywhere("parent coding", "byte pair encoding")
    assert r["lines"] == 2 and r["stale"] == ["6", "12"]
    tr = read_model(ws.path("transcript.json"), Transcript)
    assert "parent coding" not in tr.text and tr.text.count("byte pair encoding") == 3
    assert "byte pair encoding here 8" in ws.path("transcript.srt").read_text()
    for g in (ws.path("glossary.json"), root / "glossary.json"):
        terms = json.loads(g.read_text())["terms"]
        assert terms == [{"term": "byte pair encoding", "variants": ["parent coding"],
                          "source": "editor"}]
    # the next video's transcript comes out right
    new = Transcript(language="en", origin="asr", backend="x", model="x", segments=[
        tr.segments[0].model_copy(update={"text": "And Parent  Coding again."})])
    assert glossary.apply(new, [glossary.load(root / "glossary.json")]) == 1
    assert new.segments[0].text == "And byte pair encoding again."


# --- the app's guards -------------------------------------------------------------------------------


def test_the_app_refuses_without_token_foreign_host_or_csrf(ws):
    with served(ws.root) as (s, _hub):
        vid = next(iter(_hub.videos))
        status, body = call(s, "GET", f"/v/{vid}/", token=False)
        assert status == 403 and "needs its token" in body
        status, _ = call(s, "GET", f"/v/{vid}/", headers={"Host": "evil.test"})
        assert status == 403  # DNS rebinding
        status, page = call(s, "GET", f"/v/{vid}/")
        assert status == 200 and "<script>window.__pwned" not in page
        assert "Tokens &lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; bytes" in page
        put = f"/api/v/{vid}/sections/0"
        assert call(s, "PUT", put, {"rev": 0, "title": "x"}, csrf=False)[0] == 403
        assert call(s, "PUT", put, {"rev": 0, "title": "x"},
                    headers={"Origin": "http://evil.test"})[0] == 403
        assert call(s, "PUT", put, {"rev": 0, "title": "x"},
                    headers={"Sec-Fetch-Site": "cross-site"})[0] == 403
        status, body = call(s, "PUT", put, {"rev": 0, "title": "Edited over HTTP"})
        assert status == 200 and body["section"]["title"] == "Edited over HTTP"
        status, body = call(s, "PUT", put, {"rev": 0, "title": "Stale tab"})
        assert status == 409 and body["rev"] == 1
        assert call(s, "GET", f"/v/{vid}/file/../source.json")[0] == 404
        assert call(s, "GET", f"/v/{vid}/file/keyframes/scene-000.jpg")[0] == 200
        assert call(s, "GET", "/static/../app.py")[0] == 404


def test_review_cli_bad_folder_is_one_line(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "review", str(tmp_path / "nope"),
                          "--no-browser"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "is not a folder" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_a_batch_is_listed_with_each_videos_review_status(tmp_path):
    from v2a.batch.state import BatchState, EntryState

    root = tmp_path / "b"
    entries = {}
    for i, name in enumerate(("one", "two")):
        synthetic_workdir(root / "videos" / name, title=f"Talk {name}")
        entries[name] = EntryState(key=name, index=i + 1, id=name, title=f"Talk {name}", url="u",
                                   workdir=f"videos/{name}", status="done")
    write_json(root / "batch.json", BatchState(input="x", playlist_id="p", title="My course",
                                               entries=entries))
    s, _ = session(Workspace(root / "videos" / "two"))
    for key in ("0", "6", "12"):
        s.set_status(key, 0, "approved")
    with served(root) as (srv, hub):
        assert list(hub.videos) == ["one", "two"]
        status, page = call(srv, "GET", "/")
        assert status == 200 and "My course" in page
        assert page.count('href="/v/') == 2 and "to review" in page and "approved" in page


def test_the_benchmark_folder_has_the_size_it_is_asked_for(tmp_path):
    """bench/bench_review.py measures a folder of a given size: check the generator (small)."""
    from bench.bench_review import make_workdir
    from v2a.review.page import PageBuilder

    root = make_workdir(tmp_path / "w", sections=4, segments=40, keyframes=6, seconds=60)
    s, _ = session(Workspace(root))
    html = PageBuilder(s, "w").render_page("csrf", home=False)
    assert html.count('<section class="sec') == 4 and html.count("data-seg=") == 40
    assert len(list((root / "keyframes").glob("*.jpg"))) == 6
    assert s.overlay().by_key("0").review.markdown  # the review under way has edits


def test_review_cli_on_an_unwritten_folder_says_what_to_do(tmp_path):
    ws = synthetic_workdir(tmp_path / "w")
    ws.path("outline.json").unlink()
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "review", str(ws.root),
                          "--no-browser", "--port", "0"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "has no outline.json: run `v2a run`" in res.stderr


def test_code_read_off_the_screen_is_on_the_review_page_escaped(ws):
    """The screen stage's code blocks show in their section as on the published page, as text."""
    from v2a.models import CodeBlock, Screen
    from v2a.review.page import PageBuilder

    written(ws)
    outline = read_model(ws.path("outline.json"), Outline)
    t = outline.chapters[1].start + 1
    write_json(ws.path("screen.json"), Screen(code=[CodeBlock(
        start=t, end=t + 5, language="python", scenes=[0],
        lines=["def merge(ids, pair):", "    return [i for i in ids if i < 256]  # <b>"])]))
    s, _ = session(ws)
    html = PageBuilder(s, "w").render_page("csrf", home=False)
    sec = html.split(f'id="s-{section_key(outline.chapters[1])}"', 1)[1].split("</section>", 1)[0]
    assert '<figure class="code"' in sec and "def merge(ids, pair):" in sec
    assert "    return [i for i in ids if i &lt; 256]  # &lt;b&gt;" in sec
