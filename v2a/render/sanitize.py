"""Neutralising text that came from outside (video metadata, transcripts, LLM prose).

Three contexts, three tools:

* plain text into HTML (title, description, transcript): ``nh3.clean_text`` (full escaping);
* LLM Markdown into HTML: the ``markdown`` package, then ``nh3.clean`` with a prose allowlist;
* text into ``article.md``: Markdown/HTML escaping here, because a Markdown file is rendered by
  viewers we don't control, so raw HTML must not survive in it either.
"""

from __future__ import annotations

import re

import markdown
import nh3
from markupsafe import Markup

# What rendered prose may contain: text structure, code, tables, links. No images (the LLM never
# saw any, and remote ones would break offline/self-contained pages), no media, no forms.
PROSE_TAGS = {
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre", "kbd",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
    "sup", "sub", "dl", "dt", "dd",
}
PROSE_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
MD_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
MD_CONFIG = {"tables": {"use_align_attribute": True}}  # `align`, not `style`, survives nh3


def text_html(text: str | None) -> Markup:
    """Plain text for an HTML page: every character that could form markup is escaped."""
    return Markup(nh3.clean_text(text or ""))


def clean_html(html: str) -> str:
    """Allowlist-sanitise an HTML fragment (scripts, handlers, styles, odd URLs removed)."""
    return nh3.clean(html, tags=PROSE_TAGS, attributes=PROSE_ATTRIBUTES, url_schemes=URL_SCHEMES,
                     clean_content_tags={"script", "style"}, link_rel="noopener noreferrer nofollow")


def prose_html(md: str) -> Markup:
    """LLM Markdown → sanitised HTML."""
    html = markdown.markdown(md, extensions=MD_EXTENSIONS, extension_configs=MD_CONFIG)
    return Markup(clean_html(html))


# --- Markdown output ---------------------------------------------------------------------------

_MD_INLINE = re.compile(r"([\\`*_\[\]])")
_HTML_CHARS = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_text(text: str | None) -> str:
    """Plain text as inline Markdown that renders literally: no emphasis, links, code or HTML."""
    s = " ".join((text or "").split())  # one line: a newline could start a heading or a block
    s = "".join(_HTML_CHARS.get(c, c) for c in s)
    return _MD_INLINE.sub(r"\\\1", s)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^( {0,3})(#{1,6})(?=\s|$)")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d{1,9}[.)])(\s|$)")
_TAG_START = re.compile(r"[A-Za-z/!?]")  # what may follow `<` in a CommonMark raw-HTML tag
_LINK_SCHEME = re.compile(r"\s*<?\s*([A-Za-z][A-Za-z0-9+.-]*):")
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:")
_PROSE_SCHEMES = {"http", "https", "mailto"}


def md_prose(md: str, min_heading: int = 3) -> str:
    """Make LLM Markdown safe to embed in the article's Markdown.

    Raw HTML outside code is escaped (``<img onerror=…>`` shows as text), links to schemes other
    than http(s)/mailto (``javascript:``) and image syntax (remote images would be fetched by
    every viewer) are defused, and headings are demoted below the chapter heading so they can't
    break the article's structure. Code blocks and spans stay verbatim.
    """
    out: list[str] = []
    para: list[str] = []
    fence: str | None = None
    prev_blank, in_list = True, False

    def flush() -> None:
        if para:
            out.append(_escape_inline("\n".join(para)))
            para.clear()

    for line in md.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence:
            out.append(line)
            m = _FENCE.match(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip()[len(m.group(1)):].strip():
                fence = None
            continue
        m = _FENCE.match(line)
        if m:
            flush()
            fence = m.group(1)
            out.append(line)
            prev_blank = False
            continue
        if not line.strip():
            flush()
            out.append(line)
            prev_blank = True
            continue
        if prev_blank and not in_list and line.startswith("    ") and not para:
            out.append(line)  # an indented code block: verbatim like any code
            prev_blank = False
            continue
        h = _ATX.match(line)
        if h:
            flush()
            level = max(len(h.group(2)), min_heading)
            line = h.group(1) + "#" * min(level, 6) + line[h.end():]
        if not line.startswith(" ") and not line.startswith("\t"):
            in_list = bool(_LIST_ITEM.match(line))
        d = _LINK_DEF.match(line)
        if d and _bad_scheme(line[d.end():]):
            line = line.replace("[", "\\[", 1)  # a reference definition to javascript: etc.
        para.append(line)
        prev_blank = False
        if h:
            flush()
    flush()
    return "\n".join(out).strip("\n")


def _escape_inline(text: str) -> str:
    """Escape raw-HTML openers and image syntax outside code spans (CommonMark left-to-right)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i:i + 2])
            i += 2
        elif c == "`":
            j = i
            while j < n and text[j] == "`":
                j += 1
            run = text[i:j]
            close = _find_run(text, run, j)
            if close < 0:
                out.append(run)  # unmatched backticks are literal text
                i = j
            else:
                out.append(text[i:close + len(run)])
                i = close + len(run)
        elif c == "<" and i + 1 < n and _TAG_START.match(text[i + 1]):
            out.append("&lt;")
            i += 1
        elif c == "!" and text.startswith("![", i):
            out.append("\\!")
            i += 1
        elif c == "]" and text.startswith("](", i) and _bad_scheme(text[i + 2:]):
            out.append("]\\(")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _bad_scheme(dest: str) -> bool:
    """A link destination to a scheme other than http(s)/mailto, as a viewer would read it:
    entity references decoded (``jav&#x61;script:``), tabs and newlines inside dropped."""
    import html

    decoded = re.sub(r"[\x00-\x20]+", "", html.unescape(dest[:200]))
    m = _LINK_SCHEME.match(decoded)
    return m is not None and m.group(1).lower() not in _PROSE_SCHEMES


def _find_run(text: str, run: str, start: int) -> int:
    """Index of the next backtick run of exactly ``len(run)``, or -1."""
    for m in re.finditer(r"`+", text[start:]):
        if len(m.group()) == len(run):
            return start + m.start()
    return -1


_SAFE_URL_CHARS = ":/?#[]@!$&'*+,;=%~"  # everything else (spaces, quotes, <>, parentheses) is %-encoded
_SCHEMES = ("http", "https", "file")


def safe_href(url: str) -> str:
    """A URL that can't break out of a Markdown link or an HTML attribute, nor run script."""
    from urllib.parse import quote, urlsplit

    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return "#"
    if scheme and scheme not in _SCHEMES:
        return "#"  # javascript:, data:, vbscript: … never come from a real video source
    return quote(url, safe=_SAFE_URL_CHARS)
