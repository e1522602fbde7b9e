"""A third-party ASR engine with options of its own, as a plugin adds one: ``toy-echo`` 'hears'
the sentence its ``--echo-text`` option gives, ``--echo-repeat`` times.

One module and one registration. Its options are a small pydantic model of ``Opt`` fields set
as the engine's ``options``: ``v2a transcribe --help`` shows them, ``Config`` validates them, and
``--echo-text`` enters the transcribe stage's cache key because its ``Opt`` names that stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel

from v2a.hookspecs import hookimpl
from v2a.models import Segment, Transcript
from v2a.options import MEDIA, Opt

NAME = "toy-echo"


class EchoOptions(BaseModel):
    echo_text: Annotated[str, Opt(
        "What the echo engine hears.", ("--echo-text",), stages=("transcribe",),
        commands=MEDIA, panel="Transcript")] = "Hello from a plugin."
    echo_repeat: Annotated[int, Opt(
        "How many times it hears it (not in the cache key: its Opt names no stage).",
        ("--echo-repeat",), commands=MEDIA, min=1, panel="Transcript")] = 1


class EchoEngine:
    name = NAME
    options = EchoOptions  # the engine's own options (v2a.config.plugin_options)

    def __init__(self, config):
        self.opts = config.options_of(EchoOptions)

    def transcribe(self, audio_path: Path, language, on_progress) -> Transcript:
        on_progress(1.0)
        n = self.opts.echo_repeat
        segments = [Segment(id=i, start=2.0 * i, end=2.0 * i + 2.0, text=self.opts.echo_text)
                    for i in range(n)]
        return Transcript(language="en", origin="asr", backend=NAME, model="none",
                          duration=2.0 * n, segments=segments)


@hookimpl
def register_asr_engines(register):
    register(NAME, EchoEngine)
