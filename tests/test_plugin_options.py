"""An engine owns its options: ``tests/plugins/toy_asr.py`` declares ``--echo-text`` and
``--echo-repeat`` beside its ASR engine; the command line shows and parses them, ``Config``
validates them, and the transcribe stage's cache key takes the one whose ``Opt`` names it."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from tests.plugins import toy_asr
from tests.plugins.toy_asr import EchoOptions
from v2a import registry
from v2a.commandline import with_config
from v2a.config import Config, plugin_options
from v2a.errors import V2AError
from v2a.hookspecs import hookimpl
from v2a.models import Transcript
from v2a.pipeline import run_pipeline
from v2a.workspace import read_model


@pytest.fixture
def echo():
    registry.register_plugin(toy_asr, "test-toy-asr")
    try:
        yield toy_asr
    finally:
        registry.unregister_plugin("test-toy-asr")


def _app(seen: list[Config]) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @with_config("transcribe")
    def transcribe(config: Config) -> None:
        seen.append(config)

    return app


def test_the_command_line_shows_and_parses_an_engines_options(echo):
    seen: list[Config] = []
    app = _app(seen)
    runner = CliRunner()
    help_text = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "--echo-text" in help_text and "What the echo engine hears." in help_text
    assert "--beam-size" in help_text  # Config's own options are still there
    res = runner.invoke(app, ["--asr-backend", "toy-echo", "--echo-text", "Hi there.",
                              "--echo-repeat", "3"])
    assert res.exit_code == 0, res.output
    opts = seen[-1].options_of(EchoOptions)
    assert (seen[-1].asr_backend, opts.echo_text, opts.echo_repeat) == ("toy-echo", "Hi there.", 3)
    bad = runner.invoke(app, ["--echo-repeat", "0"])  # Opt(min=1), checked while parsing
    assert bad.exit_code == 2 and "--echo-repeat" in bad.output


def test_config_validates_a_plugins_options_and_drops_unknown_names(echo):
    config = Config.model_validate({"echo_text": "Bonjour."})
    assert config.options_of(EchoOptions) == EchoOptions(echo_text="Bonjour.", echo_repeat=1)
    assert Config().options_of(EchoOptions) == EchoOptions()  # the defaults
    with pytest.raises(ValidationError, match="echo_repeat"):
        Config.model_validate({"echo_repeat": "many"})
    # a name no plugin declares is dropped, as pydantic drops an unknown field
    assert "not_an_option" not in Config.model_validate({"not_an_option": 1}).model_dump()


def test_without_the_plugin_the_config_is_as_before():
    assert "echo_text" not in plugin_options()
    assert "echo_text" not in Config.model_validate({"echo_text": "x"}).model_dump()
    view = Config().stage_view("transcribe")
    assert "beam_size" in view and "echo_text" not in view


def test_the_stage_key_takes_the_option_whose_opt_names_the_stage(echo):
    assert Config().stage_view("transcribe")["echo_text"] == "Hello from a plugin."
    assert Config.model_validate({"echo_text": "a"}).stage_view("transcribe") != \
        Config.model_validate({"echo_text": "b"}).stage_view("transcribe")
    assert "echo_repeat" not in Config().stage_view("transcribe")  # its Opt names no stage
    assert "echo_text" not in Config().stage_view("outline")


def test_an_option_declared_twice_is_refused_with_one_line(echo):
    class ClashOptions(EchoOptions):  # the same names, in another model
        pass

    class Clash:
        class Engine(toy_asr.EchoEngine):
            options = ClashOptions

        @staticmethod
        @hookimpl
        def register_asr_engines(register):
            register("clash", Clash.Engine)

    registry.register_plugin(Clash, "test-clash")
    try:
        with pytest.raises(V2AError, match="option 'echo_text' of ASR engine .* already"):
            plugin_options()
    finally:
        registry.unregister_plugin("test-clash")


@pytest.fixture(scope="module")
def short_audio(tmp_path_factory) -> Path:
    from v2a.samples import make_lecture

    return make_lecture(tmp_path_factory.mktemp("echo") / "talk.m4a", topics=[0],
                        audio_only=True).video


def test_the_engine_hears_its_option_and_a_new_value_reruns_transcribe(echo, short_audio,
                                                                        tmp_path):
    wd = tmp_path / "w"

    def transcribe(**opts) -> str:
        config = Config.model_validate({"workdir": wd, "asr": "always", "quiet": True,
                                        "asr_backend": "toy-echo", **opts})
        run_pipeline(str(short_audio), config, target="transcribe")
        log = [json.loads(x) for x in (wd / ".v2a" / "stages.log").read_text().splitlines()]
        return [x["action"] for x in log if x["stage"] == "transcribe"][-1]

    assert transcribe(echo_text="First words.", echo_repeat=2) == "ran"
    tr = read_model(wd / "transcript.json", Transcript)
    assert " ".join(s.text for s in tr.segments) == "First words. First words."
    assert transcribe(echo_text="First words.", echo_repeat=2) == "cached"
    assert transcribe(echo_text="Other words.", echo_repeat=2) == "ran"
    assert read_model(wd / "transcript.json", Transcript).segments[0].text.startswith("Other")


def test_the_built_in_engines_options_keep_their_flags_defaults_and_env(tmp_path, monkeypatch):
    """faster-whisper's --asr-device/--vad and the embedded model's --local-* moved from Config
    to their engines: the same flags, defaults and environment variable, and a folder's saved
    options (``v2a review``, ``v2a publish``) keep them."""
    from v2a.cli import app
    from v2a.llm.local.options import EmbeddedOptions
    from v2a.pipeline import save_config, saved_config
    from v2a.transcribe.faster import FasterWhisperOptions
    from v2a.workspace import Workspace

    runner = CliRunner()
    run_help = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).output
    for flag in ("--asr-device", "--no-vad", "--local-model", "--local-server", "--local-threads"):
        assert flag in run_help, flag
    from v2a.review.command import review  # a command registered by the built-in plugin

    assert {"local_model", "local_server"} <= set(inspect.signature(review).parameters)
    assert Config().options_of(FasterWhisperOptions) == FasterWhisperOptions(asr_device="auto",
                                                                             vad=True)
    assert Config().options_of(EmbeddedOptions) == EmbeddedOptions(
        local_model="qwen2.5-coder-1.5b", local_server="auto", local_threads=None)
    seen: list[Config] = []
    monkeypatch.setenv("V2A_LOCAL_THREADS", "3")
    app2 = typer.Typer()

    @app2.command()
    @with_config("run")
    def run(config: Config) -> None:
        seen.append(config)

    assert runner.invoke(app2, ["--no-vad", "--local-model", "m.gguf"]).exit_code == 0
    assert seen[-1].options_of(EmbeddedOptions).local_threads == 3  # $V2A_LOCAL_THREADS
    assert seen[-1].options_of(FasterWhisperOptions).vad is False
    ws = Workspace(tmp_path / "w").ensure()
    save_config(ws, seen[-1])
    again = saved_config(ws)
    assert again.options_of(EmbeddedOptions).local_model == "m.gguf"
    assert again.options_of(FasterWhisperOptions).vad is False
