"""A stage is declared once: a plugin adds one (``tests/plugins/toy_stage.py``: wordcount.json
after transcribe) with one module and one registration, and the runner, its cache, ``--force``,
run.json and both batch engines (local threads, and a real Ray cluster on loopback) run it.

The media is a tiny generated talk (one topic, 320x180, no OCR) and the LLM is the plugin's
scripted provider, so the whole pipeline costs seconds and no model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plugins import toy_stage as toy
from tests.test_batch_ray import cluster  # noqa: F401 - the real Ray cluster fixture
from v2a import registry
from v2a.batch.plan import make_plan
from v2a.batch.state import BatchState, StateStore
from v2a.config import Config
from v2a.errors import V2AError
from v2a.hookspecs import hookimpl
from v2a.models import Playlist, PlaylistEntry, Transcript
from v2a.pipeline import run_pipeline
from v2a.registry import BATCH_ENGINES
from v2a.stages import STAGES, StageSpec, phases, target_stages
from v2a.workspace import read_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy_stage():
    toy.install()
    try:
        yield toy
    finally:
        registry.unregister_plugin(toy.NAME)


@pytest.fixture(scope="module")
def tiny_talk(tmp_path_factory) -> Path:
    from v2a.samples import make_lecture

    return make_lecture(tmp_path_factory.mktemp("tiny") / "tiny.mp4", topics=[0],
                        size=(320, 180)).video


def _config(**kw) -> Config:
    return Config(quiet=True, llm_provider="toy-scripted", ocr="none", **kw)


def _batch(video: Path, out: Path, engine: str):
    """A one-video batch, planned and run in this process by the named engine."""
    config = _config(out_root=out, batch_engine=engine, asr_threads=1)
    playlist = Playlist(input=str(video), id="toys", title="Toy talks", entries=[
        PlaylistEntry(index=1, id="tiny", title="Tiny talk", url=str(video))])
    plan = make_plan(playlist)
    root = out / plan.root_slug
    store = StateStore.open(root / "batch.json", BatchState(
        input=str(video), playlist_id=playlist.id, title=playlist.title))
    store.merge(plan.selected)
    runner = BATCH_ENGINES.get(engine)(store, root, config, media_workers=None, llm_workers=1)
    return runner, store, root


def _stage_log(workdir: Path) -> list[dict]:
    return [json.loads(x) for x in (workdir / ".v2a" / "stages.log").read_text().splitlines()]


def _check_wordcount(workdir: Path) -> None:
    counts = json.loads((workdir / "wordcount.json").read_text())
    segments = read_model(workdir / "transcript.json", Transcript).segments
    assert counts["per_segment"] == [len(s.text.split()) for s in segments]
    assert counts["words"] == sum(counts["per_segment"]) > 10


def test_the_graph_takes_a_plugin_stage_into_every_derived_list(toy_stage):
    assert "wordcount" in STAGES and STAGES["wordcount"].deps == ("transcribe",)
    assert "wordcount" in phases()["media"]  # a batch runs it on the media worker
    assert "wordcount" in target_stages("media") and "wordcount" in target_stages("run")
    assert Config(force=["wordcount"]).force == ["wordcount"]  # --force knows it
    # the order is the graph's: after what it reads, whatever the registration order
    names = list(STAGES)
    assert names.index("transcribe") < names.index("wordcount")


def test_every_option_names_declared_stages_and_the_docs_list_every_stage():
    """Opt(stages=...) stays the source of a key's options, so it must name real stages; and
    ARCHITECTURE.md's stage table is kept true to the declarations (name and artifacts)."""
    from v2a.config import options

    for name, opt, _ in options():
        assert set(opt.stages) <= set(STAGES), (name, opt.stages)
    doc = (ROOT / "ARCHITECTURE.md").read_text("utf-8")
    rows = {line.split("|")[1].strip(): line for line in doc.splitlines()
            if line.startswith("| ") and line.count("|") >= 5}
    for spec in STAGES.specs():
        assert spec.name in rows, spec.name
        for art in spec.outputs:
            stem = art.name.rsplit(".", 1)[0]
            assert art.name in rows[spec.name] or stem in rows[spec.name], (spec.name, art.name)


def test_artifact_file_names_are_written_in_two_modules():
    """The stage declaration (v2a/stages.py) and the work folder (v2a/workspace.py) own the
    file names; every other module says ``TRANSCRIPT.name``, ``ws.run_json`` or
    ``ws.checks_json``."""
    import ast

    names = {a.name for s in STAGES.specs() for a in s.outputs} | {"run.json", "batch.json",
                                                                     "checks.json"}
    writers = set()
    for path in sorted((ROOT / "v2a").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        if any(isinstance(n, ast.Constant) and n.value in names and id(n) not in docs
               for n in ast.walk(tree)):
            writers.add(path.relative_to(ROOT).as_posix())
    assert writers == {"v2a/stages.py", "v2a/workspace.py"}


def test_a_stage_key_takes_the_options_its_declaration_names(tmp_path):
    from v2a.pipeline import stage_key
    from v2a.stage import StageContext
    from v2a.workspace import Workspace

    spec = StageSpec("toy", "x:run", options=("scene_threshold",))
    ws = Workspace(tmp_path).ensure()

    def key(**cfg) -> str:
        return stage_key(StageContext(ws=ws, config=Config(**cfg), src=""), spec)

    assert key(scene_threshold=3.0) != key(scene_threshold=5.0)
    assert key(llm_model="a") == key(llm_model="b")  # an option it did not name


def test_a_plugin_stage_out_of_order_is_refused_with_one_line():
    class Broken:
        @staticmethod
        @hookimpl
        def register_stages(register):
            register("early", StageSpec("early", "x:run", deps=("write",), phase="media"))

    registry.register_plugin(Broken, "test-broken-stage")
    try:
        with pytest.raises(V2AError, match="'early' .*reads 'write', which runs later"):
            list(STAGES)
    finally:
        registry.unregister_plugin("test-broken-stage")
    assert "early" not in STAGES


def test_a_plugin_stage_runs_caches_and_is_forced(toy_stage, tiny_talk, tmp_path):
    wd = tmp_path / "w"
    report = run_pipeline(str(tiny_talk), _config(workdir=wd))
    assert report.ok and {s.name: s.status for s in report.stages}["wordcount"] == "ran"
    _check_wordcount(wd)
    assert "wordcount.json" in report.outputs  # run.json names it

    again = run_pipeline(str(tiny_talk), _config(workdir=wd))
    assert {s.name: s.status for s in again.stages}["wordcount"] == "cached"
    forced = run_pipeline(str(tiny_talk), _config(workdir=wd, force=["wordcount"]))
    ran = [s.name for s in forced.stages if s.status == "ran"]
    # only the forced stage re-runs (write re-runs too: its chapter was refused, to be retried)
    assert "wordcount" in ran and not {"ingest", "audio", "transcribe", "outline"} & set(ran)


def test_the_local_batch_engine_runs_a_plugin_stage_in_its_phase(toy_stage, tiny_talk,
                                                                  tmp_path):
    runner, store, root = _batch(tiny_talk, tmp_path / "out", "local")
    runner.run()
    (entry,) = store.state.ordered()
    assert entry.status == "done", entry.reason
    _check_wordcount(root / entry.workdir)
    order = [x["stage"] for x in _stage_log(root / entry.workdir) if x["action"] == "ran"]
    assert order.index("wordcount") < order.index("outline")  # in the media phase


@pytest.mark.timeout(900)
def test_the_ray_batch_engine_runs_a_plugin_stage_on_its_workers(toy_stage, tiny_talk,
                                                                  cluster, tmp_path):  # noqa: F811
    """The workers learn the plugin as a third-party one is learnt on a cluster: installed
    there (here: the worker setup hook imports it from this checkout)."""
    import ray

    c, _ = cluster
    ray.init(address=c.address, logging_level="ERROR", log_to_driver=False, runtime_env={
        "worker_process_setup_hook": toy.install, "env_vars": {"PYTHONPATH": str(ROOT)}})
    try:
        runner, store, root = _batch(tiny_talk, tmp_path / "out", "ray")
        events: list[dict] = []
        runner.watch = events.append
        runner.run()
    finally:
        ray.shutdown()
    (entry,) = store.state.ordered()
    assert entry.status == "done", entry.reason
    _check_wordcount(root / entry.workdir)
    media_pids = {ev["pid"] for ev in events if ev["stage"] == "transcribe"}
    assert {ev["pid"] for ev in events if ev["stage"] == "wordcount"} == media_pids
