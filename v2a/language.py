"""One language type for every stage: a BCP 47 tag, normalised once.

``Config`` validates ``--lang`` and ``--spoken-language`` into it (``Language.parse``: strict, one
clear line for a bad code). Codes read from artifacts, ASR and subtitles go through
``Language.of`` (lenient: ``None`` for what is not a tag), so prompts (``name``), the script
check (``base``), the page's own words (``base``) and ``<html lang>`` (the tag) all agree.
"""

from __future__ import annotations

from typing import Any

import langcodes
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

# what prompts call a language ("Write in Simplified Chinese"); others by their tag
NAMES = {
    "en": "English", "zh": "Simplified Chinese", "zh-tw": "Traditional Chinese",
    "ja": "Japanese", "ko": "Korean", "de": "German", "fr": "French", "es": "Spanish",
    "it": "Italian", "pt": "Portuguese", "ru": "Russian", "nl": "Dutch", "pl": "Polish",
    "tr": "Turkish", "ar": "Arabic", "hi": "Hindi", "uk": "Ukrainian", "sv": "Swedish",
    "vi": "Vietnamese", "id": "Indonesian",
}


class Language(str):
    """A language as its canonical BCP 47 tag: ``pt_br`` → ``pt-BR``, ``EN-us`` → ``en-US``,
    ``iw`` → ``he``. It is a ``str``, so it serialises, hashes and compares as its tag."""

    __slots__ = ()

    @classmethod
    def parse(cls, text: Any) -> Language:
        """The tag ``text`` names; ``ValueError`` when it is none (``und``, undetermined, is
        none: no one reads or writes in it)."""
        tag = text.strip() if isinstance(text, str) else ""
        if tag and langcodes.tag_is_valid(tag):
            lang = langcodes.Language.get(tag)
            # a private-use tag ("x-foo") parses as a "language" of its own: not one a reader has
            if lang.language and lang.language.isalpha() and lang.language != "und":
                return cls(lang.to_tag())
        raise ValueError(f"{text!r} is not a language tag (BCP 47, e.g. en, de, pt-BR, zh-Hans)")

    @classmethod
    def of(cls, code: str | None) -> Language | None:
        """A code from an artifact, the ASR or a subtitle track: its tag, or ``None``."""
        if isinstance(code, Language):
            return code
        try:
            return cls.parse(code)
        except ValueError:
            return None

    @property
    def base(self) -> str:
        """The primary language subtag: ``zh`` for ``zh-TW``."""
        return self.split("-")[0].lower()

    @property
    def name(self) -> str:
        """What a prompt calls it: ``Traditional Chinese`` for ``zh-TW``; else its tag."""
        return NAMES.get(self.lower(), NAMES.get(self.base, str(self)))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            lambda v: v if isinstance(v, cls) else cls.parse(v),
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str))
