"""Prompt scaffolding and talk about the task, which a small model leaves in its prose.

"This translation maintains the structure...", "I understand that the previous chapter...",
a closing ``\"\"\"``, "Transcript of chapter 3:", a "Note:" paragraph: none of it belongs in an
article. ``strip`` removes what sits at the edges of a reply (safe: it is never the speaker's
words); ``leftover`` finds what is still inside, for the write stage to ask again; ``trim``
removes every such sentence, the last resort.
"""

from __future__ import annotations

import re

# lines that are only a delimiter or an echo of the prompt's own labels
_DELIMITER = re.compile(r'^\s*(?:"""|\'\'\'|```\w*|-{3,}|\*{3,}|={3,}|_{3,})\s*$')
_ECHO = re.compile(r"^\s*\(?(?:transcript of (?:chapter|part)\b|the (?:previous|next) chapter "
                   r"(?:ended|begins) with|rewrite the transcript|chapter \d+ of \d+\b)",
                   re.IGNORECASE)
# sentences about the task rather than the talk
_META = re.compile(
    r"\b(?:this|the above|my|the following|the)\s+(?:translation|rewrite|rewritten (?:text|"
    r"version|chapter)|version|revised text|prose|text)\s+(?:maintains|preserves|keeps|captures|"
    r"retains|follows|adheres|stays|remains)\b"
    r"|\badher\w*\s+to\s+the\s+(?:specified\s+|given\s+|provided\s+)?(?:guidelines|rules|"
    r"instructions)"
    r"|\bI\s+understand\s+(?:that\s+)?(?:the\s+|your\s+)?(?:task|request|instructions?|"
    r"previous\s+chapter|transcript|you)\b"
    r"|\bI(?:'ll|\s+will|\s+am\s+going\s+to|'m\s+going\s+to)\s+(?:now\s+)?rewrite\s+(?:the\s+)?"
    r"(?:transcript|chapter|text\b|following|it\s+as)|\boutput\s+only\s+the\b"
    r"|\b(?:accurately|faithfully)\s+rewrite\b"
    r"|\bI\s+(?:have\s+rewritten|rewrote|will\s+(?:now\s+)?(?:rewrite|continue)|"
    r"hope\s+this\s+helps|have\s+kept\s+the\s+(?:structure|meaning|speaker))\b"
    r"|\b(?:as\s+requested|here(?:\s+is|'s|’s)\s+the\s+(?:rewritten|clean|revised|cleaned)|below\s+is\s+"
    r"the\s+(?:rewritten|revised))\b"
    r"|\blet\s+me\s+know\s+if\b|\bfeel\s+free\s+to\b"
    r"|\b(?:in|into)\s+(?:the\s+)?(?:speaker'?s\s+(?:own\s+)?voice|first[- ]person)\s*(?:[.,:]|$)"
    r"|\b(?:original\s+transcript|the\s+transcript\s+(?:above|provided|given))\b",
    re.IGNORECASE)
# the same in Chinese and Japanese, which a small model writes when asked for those languages:
# "好的，以下是根据给定的 transcript 重写后的章节内容：", "希望这对你有帮助！", "以下は…です："
_META_CJK = re.compile(
    r"^\s*(?:好的|当然|當然|没问题|以下是|下面是|这是|這是|はい|承知しました|以下は|以下が|こちらは)"
    r"[^\n]{0,80}?(?:[:：]\s*$|(?:内容|內容|章节|章節|文章|改写|改寫|重写|重寫|翻译|翻譯|書き直|翻訳|"
    r"リライト|transcript|rewrit)[^\n]{0,40}?[:：]?\s*$)"
    r"|^\s*(?:希望(?:这|這|以上)[^\n]{0,30}(?:帮助|幫助|有用)|如果(?:你|您)(?:有|还有)[^\n]{0,30}"
    r"(?:问题|問題|需要)|お役に立て|ご不明な点)[^\n]*$",
    re.IGNORECASE | re.MULTILINE)
_NOTE = re.compile(r"^\s*(?:\*\*)?(?:note|notes|explanation|changes made)\b\s*(?:\*\*)?\s*:",
                   re.IGNORECASE)
# the article's frame, not the speaker's words: "In this chapter, we will write…" (the speaker
# said "Today we are going to write…"); dropped from the front of a paragraph
_FRAME_LEAD = re.compile(r"^(?:in|throughout|for|during)\s+this\s+(?:chapter|section|part)"
                         r"(?:\s+of\s+the\s+(?:talk|lecture|article|video))?\s*,\s*",
                         re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+[\"')\]]*|$)\s*")


def _is_meta_paragraph(p: str) -> bool:
    if _NOTE.match(p) or _ECHO.match(p) or _DELIMITER.match(p):
        return True
    if _META_CJK.fullmatch(p.strip()):
        return True
    sents = [x for x in _SENTENCE.findall(p) if x.strip()]
    return bool(sents) and all(_META.search(x) for x in sents)


def strip(text: str) -> tuple[str, list[str]]:
    """Remove delimiter lines, echoed prompt labels, and meta paragraphs/sentences at the start
    or end of a reply. Returns (text, what was removed)."""
    removed: list[str] = []
    lines = []
    for line in text.splitlines():
        if _DELIMITER.match(line) or _ECHO.match(line):
            removed.append(line.strip())
            continue
        lines.append(line)
    paras = [p for p in re.split(r"\n\s*\n", "\n".join(lines).strip()) if p.strip()]
    while paras and _is_meta_paragraph(paras[0]):
        removed.append(paras.pop(0).strip())
    while paras and _is_meta_paragraph(paras[-1]):
        removed.append(paras.pop().strip())
    if paras:
        paras[0], cut = _edge_sentences(paras[0], first=True)
        removed += cut
    if paras:
        paras[-1], cut = _edge_sentences(paras[-1], first=False)
        removed += cut
    for i, p in enumerate(paras):
        m = _FRAME_LEAD.match(p)
        if m and p[m.end():m.end() + 1].isalpha():
            removed.append(m.group(0).strip())
            rest = p[m.end():]
            paras[i] = rest[0].upper() + rest[1:]
    return "\n\n".join(p for p in paras if p.strip()), removed


def _edge_sentences(p: str, first: bool) -> tuple[str, list[str]]:
    sents = [s for s in _SENTENCE.findall(p) if s.strip()]
    cut = []
    while len(sents) > 1 and _META.search(sents[0 if first else -1]):
        cut.append(sents.pop(0 if first else -1).strip())
    return ("".join(sents).strip() if cut else p), cut


def leftover(text: str) -> list[str]:
    """Sentences about the task still inside the text (outside code)."""
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    prose = re.sub(r"`[^`]*`", "", prose)
    return [s.strip() for s in _SENTENCE.findall(prose) if _META.search(s)] + \
        [m.group(0).strip() for m in _META_CJK.finditer(prose)]


def trim(text: str) -> str:
    """Every sentence about the task removed (the last resort)."""
    text = _META_CJK.sub("", text)
    out = []
    for p in re.split(r"(\n\s*\n)", text):
        if p.strip() and "```" not in p:
            p = "".join(s for s in _SENTENCE.findall(p) if not _META.search(s)).strip()
        out.append(p)
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()
