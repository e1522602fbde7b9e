"""A third-party stage, as a plugin adds one: ``wordcount.json`` (words per transcript segment)
after transcribe. One module and one registration; the runner, the cache, ``--force``, the batch
phases (local threads and Ray) and run.json take it from its ``StageSpec``.

It also registers ``toy-scripted``, an LLM provider that answers every call with the same
unusable reply, so a whole run costs no model: the outline falls back to names from the
chapters' own words and the write stage leaves the transcript standing in.
"""

from __future__ import annotations

from pydantic import BaseModel

from v2a.hookspecs import hookimpl
from v2a.llm.base import LLMHandle, Target
from v2a.llm.scripted import ScriptedLLM
from v2a.stage import StageContext, StageResult
from v2a.stages import TRANSCRIPT, Artifact, StageSpec


class WordCount(BaseModel):
    words: int
    per_segment: list[int]


WORDCOUNT = Artifact("wordcount.json", WordCount)


def run(ctx: StageContext) -> StageResult:
    transcript = ctx.ws.read(TRANSCRIPT)
    counts = [len(s.text.split()) for s in transcript.segments]
    ctx.ws.write(WORDCOUNT, WordCount(words=sum(counts), per_segment=counts))
    return StageResult(detail=f"{sum(counts)} words")


@hookimpl
def register_stages(register):
    register("wordcount", StageSpec(
        "wordcount", "tests.plugins.toy_stage:run", deps=("transcribe",), outputs=(WORDCOUNT,),
        phase="media", help="words per transcript segment"))


class ToyScripted:
    """An LLM provider whose model refuses every request (no server, no network)."""

    @staticmethod
    def target(config) -> Target:
        return Target(provider="toy-scripted", model_name="toy", cache_id="toy-scripted")

    @staticmethod
    def open(config, target: Target, progress) -> LLMHandle:
        llm = ScriptedLLM(default="I'm sorry, but I can't help with that.", model_name="toy",
                          cache_id="toy-scripted")
        return LLMHandle(llm=llm, base_url=None, model_name="toy", kind="toy-scripted")


@hookimpl
def register_llm_providers(register):
    register("toy-scripted", ToyScripted)


def install() -> None:
    """Register this plugin in this process, once (a Ray worker's setup hook calls it)."""
    import sys

    from v2a import registry
    from v2a.plugins import manager

    if manager().get_plugin(NAME) is None:
        registry.register_plugin(sys.modules[__name__], NAME)


NAME = "toy-stage"
