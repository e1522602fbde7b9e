"""The script an article language is written in, to check that a reply is in it.

Only for languages with a script of their own: a chapter asked for in Chinese that comes back in
English is easy to tell; German from English is not (and is not attempted).
"""

from __future__ import annotations

import re

from ..language import Language
from ..llm.prompts import language_name
from .ask import Invalid

_SCRIPTS = {
    "zh": r"\u3400-\u4dbf\u4e00-\u9fff", "ja": r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff",
    "ko": r"\uac00-\ud7af\u1100-\u11ff", "ru": r"\u0400-\u04ff", "uk": r"\u0400-\u04ff",
    "ar": r"\u0600-\u06ff", "hi": r"\u0900-\u097f",
}
MIN_TARGET_SCRIPT = 0.5  # of the prose's letters, code and code spans left out


def _chars(lang: str | None) -> str | None:
    """The character ranges of ``lang``'s own script (None: a Latin-script language)."""
    tag = Language.of(lang)
    return _SCRIPTS.get(tag.base) if tag is not None else None


def target_script_share(markdown: str, lang: str | None) -> float | None:
    """How much of the prose is in the article language's script (None: a Latin-script
    language, or no letters to judge)."""
    chars = _chars(lang)
    if chars is None:
        return None
    prose = re.sub(r"```.*?```|`[^`]*`|\[[^\]]*\]\([^)]*\)", " ", markdown, flags=re.DOTALL)
    target = len(re.findall(f"[{chars}]", prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    return target / (target + latin) if target + latin >= 20 else None


def has_target_script(text: str, lang: str | None) -> bool:
    """False only when ``lang`` has a script of its own and ``text`` has none of it (a title
    left in English: "UTF-8 Encoding" for a Japanese article)."""
    chars = _chars(lang)
    return chars is None or bool(re.search(f"[{chars}]", text))


def require_script(title: str, lang: str | None, hint: str = "") -> None:
    """Raise ``Invalid`` (shown to the model) for a title with none of ``lang``'s script."""
    if not has_target_script(title, lang):
        raise Invalid(f"\"{title}\" is not in {language_name(lang)}; write it in "
                      f"{language_name(lang)}{hint}")
