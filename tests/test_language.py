"""One ``Language`` type: options are validated into it once, and every stage that names a
language (the ASR, the prompts, the script check, the page's words, ``<html lang>``) reads the
same tag from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from v2a.config import Config
from v2a.language import Language
from v2a.llm.prompts import language_name
from v2a.render.html_article import _lang
from v2a.render.i18n import UI, language
from v2a.transcribe.base import whisper_code
from v2a.write.scripts import has_target_script

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("given, tag", [
    ("en", "en"), ("pt_br", "pt-BR"), ("EN-us", "en-US"), ("zh-tw", "zh-TW"),
    ("zh-Hans", "zh-Hans"), (" de ", "de"), ("iw", "he"), ("yue", "yue"), ("sr-latn", "sr-Latn"),
])
def test_a_tag_is_written_one_way(given, tag):
    lang = Language.parse(given)
    assert isinstance(lang, Language) and lang == tag and str(lang) == tag
    assert Language.parse(lang) == lang  # idempotent


@pytest.mark.parametrize("bad", ["xx-invalid", "x-foo", "und", "english", "en-", "", "  ", None, 5])
def test_what_is_no_language_is_refused(bad):
    with pytest.raises(ValueError, match="is not a language tag"):
        Language.parse(bad)
    assert Language.of(bad) is None


def test_base_and_name():
    tw = Language.parse("zh-TW")
    assert (tw.base, tw.name) == ("zh", "Traditional Chinese")
    assert (Language.parse("zh-Hans").name, Language.parse("de-AT").name) == \
        ("Simplified Chinese", "German")
    assert Language.parse("haw").name == "haw"  # no English name known: its tag


def test_config_validates_both_language_options():
    c = Config(article_language="pt_br", spoken_language="DE")
    assert isinstance(c.article_language, Language) and c.article_language == "pt-BR"
    assert isinstance(c.spoken_language, Language) and c.spoken_language.base == "de"
    # cache keys and the saved config see the plain tag, and it reloads the same
    data = json.loads(c.model_dump_json())
    assert (data["article_language"], data["spoken_language"]) == ("pt-BR", "de")
    assert Config.model_validate(data) == c
    assert c.stage_view("transcribe")["spoken_language"] == "de"
    with pytest.raises(ValueError, match="--language 'klingon' is not a language tag"):
        Config(spoken_language="klingon")
    with pytest.raises(ValueError, match="--lang 'x-foo' is not a language tag"):
        Config(article_language="x-foo")
    with pytest.raises(ValueError):  # assignment is validated too
        c.article_language = "nope-nope"  # type: ignore[assignment]


def test_a_bad_spoken_language_is_one_usage_line():
    res = subprocess.run([sys.executable, str(ROOT / "cli.py"), "transcribe", "x.mp4",
                          "--spoken-language", "xx-invalid"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "'xx-invalid' is not a language tag" in res.stderr


def test_every_stage_reads_the_same_tag():
    # prompts, the script check, the page's words and <html lang> agree on one spelling
    assert language_name("ZH_tw") == language_name("zh-TW") == "Traditional Chinese"
    assert language_name(None) is None and language_name("??") == "??"
    assert language("zh_TW") == language("zh-Hant") == "zh" and language("xx-invalid") == "en"
    assert UI("JA").lang == "ja" and UI(None).lang == "en"
    assert not has_target_script("An English title", "zh_TW")
    assert has_target_script("An English title", "x-foo")  # no language, nothing to check
    assert (_lang("zh-tw"), _lang("iw"), _lang('en"><script>'), _lang(None)) == \
        ("zh-TW", "he", "en", "en")
    # EPUB/PDF/DOCX (and the book) take the primary subtag
    from v2a.render.export import _lang as export_lang

    assert (export_lang("zh-TW"), export_lang("pt_br"), export_lang("x-foo")) == ("zh", "pt", "en")


def test_the_asr_gets_whispers_own_codes():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert (whisper_code(Language.parse("zh-TW")), whisper_code(Language.parse("jv")),
            whisper_code(Language.parse("fil")), whisper_code(None)) == ("zh", "jw", "tl", None)
    # every code Whisper knows comes back as itself, through the canonical tag
    assert [c for c in _LANGUAGE_CODES if whisper_code(Language.parse(c)) != c] == []


class Artifact(BaseModel):
    lang: Language | None = None


def test_as_a_model_field():
    a = Artifact(lang="EN-gb")
    assert a.lang == "en-GB" and a.model_dump(mode="json") == {"lang": "en-GB"}
    assert Artifact.model_json_schema()["properties"]["lang"]["anyOf"][0] == {"type": "string"}
    with pytest.raises(ValueError):
        Artifact(lang="not a tag")
