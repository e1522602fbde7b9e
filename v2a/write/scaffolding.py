"""Prompt scaffolding and talk about the task, which a small model leaves in its prose.

"This translation maintains the structure...", "I understand that the previous chapter...",
a closing ``\"\"\"``, "Transcript of chapter 3:", a "Note:" paragraph: none of it belongs in an
article. ``strip`` removes what sits at the edges of a reply (safe: it is never the speaker's
words); ``leftover`` finds what is still inside, for the write stage to ask again; ``trim``
removes every such sentence, the last resort.
"""

from __future__ import annotations

import functools
import re

# lines that are only a delimiter or an echo of the prompt's own labels
_DELIMITER = re.compile(r'^\s*(?:"""|\'\'\'|```\w*|-{3,}|\*{3,}|={3,}|_{3,})\s*$')
_ECHO = re.compile(r"^\s*\(?(?:\*\*chapter\s+\d+\s*:.*\*\*\s*$|"
                   # the prompt's chapter label: a title with its times, "(1:53 to 3:15)"
                   r"[*\"]*[^\n.!?]{0,80}\(\d+:\d\d(?::\d\d)?\s+to\s+\d+:\d\d(?::\d\d)?\)"
                   r"[*\"]*\s*$|"
                   r"transcript of (?:chapter|part)\b|the (?:previous|next) chapter "
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
# Sentences about the text rather than the talk, in general forms (not the phrases seen): the
# text/chapter/transcript as the subject of a verb of writing or editing; the article's form
# (Markdown, paragraphs, introduction/summary/conclusion left out); first-person reports of
# what was done to the transcript; the instructions themselves
# a text's verbs of editing, never of processing ("the text is converted/encoded/cleaned" is
# what a talk about text says); "written" only with the form it is written in
_TEXT = r"(?:text|chapter|section|transcript|rewrite|passage|paragraphs?|prose|article)"
_EDIT = (r"(?:rewritten|re-?phrased|re-?worded|re-?formatted|condensed|polished|revised|"
         r"written\s+(?:in|as)\s+(?:plain|markdown|prose|paragraphs|clean|the\s+first|"
         r"first|the\s+speaker))")
_ABOUT_TEXT = re.compile(
    # "The text is now written in plain Markdown…", "This chapter has been rewritten…"
    rf"^\W*(?:the|this|that|my|your|its|our)\s+(?:\w+\s+)?{_TEXT}\s+(?:above\s+|below\s+)?"
    rf"(?:is|are|was|were|has\s+been|have\s+been|remains|stays)\s+(?:now\s+|also\s+|then\s+)?"
    rf"(?:\w+ly\s+)?{_EDIT}\b"
    # "…in plain Markdown paragraphs", "Markdown formatting": the article's form
    r"|\b(?:plain\s+)?markdown\s+(?:paragraphs?|format(?:ting)?|syntax|headings?|code\s+spans?)"
    r"|\b(?:in|as|into|using)\s+plain\s+(?:markdown|paragraphs|prose|text)\b"
    # "I have removed the filler words", "I kept the speaker's voice", "I did not add a summary":
    # what was done to the transcript (not "I kept the merge rules in a dict")
    r"|\bI(?:'ve|\s+have|\s+had)?\s+(?:also\s+|carefully\s+|only\s+)?(?:not\s+|n't\s+)?"
    r"(?:re-?written|rewrote|re-?phrased|re-?worded|removed|dropped|omitted|left\s+out|cut|"
    r"kept|preserved|maintained|retained|corrected|fixed|cleaned(?:\s+up)?|formatted|"
    r"made\s+sure|ensured|tried\s+to|avoided|added|included|stuck|followed|focused)\b"
    r"[^.!?]{0,60}?\b(?:filler|false\s+starts?|repetitions?|transcript|the\s+speaker|"
    r"speaker'?s|original\s+(?:transcript|wording|meaning|order|structure|text)|"
    r"introduction|summary|conclusion|markdown|formatting|code\s+spans?|instructions|"
    r"guidelines|(?:your|the\s+given|the\s+provided)\s+rules|first\s+person|"
    r"the\s+(?:wording|tone|flow)\b)"
    # "I have rewritten the chapter": the text itself as what was rewritten
    r"|\bI(?:'ve|\s+have)?\s+(?:re-?written|rewrote|re-?phrased|re-?worded|re-?formatted|"
    r"condensed|polished|revised)\s+(?:the|this|your)\s+(?:\w+\s+)?"
    r"(?:text|chapter|transcript|section|passage|paragraphs?|content)\b"
    r"|\bI\s+did(?:\s+not|n't)\s+(?:add|include|write)\b"
    # "as instructed", "following your guidelines", "per the requirements"
    # (not "as specified in PEP 614", "as required by the standard": what a reference says)
    r"|\bas\s+(?:instructed|requested|asked|you\s+asked)\b"
    r"|\bas\s+(?:required|specified)\b(?!\s+(?:in|by|for|under|at)\b)"
    r"|\b(?:per|following|according\s+to|in\s+line\s+with|in\s+accordance\s+with)\s+"
    r"(?:the|your|all\s+the)\s+(?:\w+\s+)?(?:instructions|rules|guidelines|requirements)\b"
    # "the speaker's own voice", "in the speaker's words": the rewriting's brief
    r"|\bthe\s+speaker'?s\s+(?:own\s+)?(?:voice|words|style|tone|wording|meaning)\b"
    # "This shorter version keeps the main message…": the reply judging itself
    r"|^\W*(?:the|this|my|that)\s+(?:\w+\s+)?(?:version|rewrite|revision|rewritten\s+\w+)\s+"
    r"(?:\w+\s+)?(?:keeps|maintains|preserves|captures|retains|follows|stays|remains|conveys|"
    r"reflects|is\s+(?:shorter|longer|clearer|faithful|concise|more|less|now))\b"
    r"|\boriginal\s+(?:chapter|transcript)\b"
    # "Here is the shorter version:", "Here's your cleaned-up chapter"
    r"|\bhere(?:\s+is|'s|’s|\s+are)\s+(?:the|my|a|your)\s+(?:[\w-]+\s+){0,2}"
    r"(?:version|rewrite|revision)\b"
    r"|\bhere(?:\s+is|'s|’s|\s+are)\s+(?:the|my|a|your)\s+(?:shorter|longer|rewritten|revised|"
    r"clean|cleaned|cleaned-up|edited|updated|improved|simplified|condensed|final|polished|"
    r"more\s+\w+)\s+(?:\w+\s+)?(?:chapter|text|paragraphs?|transcript|section)\b"
    # "I'd be happy to rewrite…", "Let's make the chapter shorter", "The editor's request is…"
    r"|\bI(?:'d|\s+would)\s+be\s+(?:happy|glad|delighted)\s+to\b"
    # an offer of more ("I can provide a more detailed version of the chapter if you would like")
    r"|\bI\s+(?:can|could)\s+(?:also\s+)?(?:provide|offer|give\s+you)\s+(?:you\s+)?"
    r"(?:a|an|the|another)\s+(?:[\w-]+\s+){0,4}?(?:version|rewrite|revision|summary|draft)\b"
    r"|\bif\s+you(?:'d|\s+would)\s+like\W*$"
    r"|\bwould\s+you\s+like\s+me\s+to\b"
    r"|\b(?:let's|let\s+me|I'll|I\s+will|I'm\s+going\s+to|I\s+am\s+going\s+to)\s+"
    r"(?:now\s+|try\s+to\s+)?(?:make|rewrite|shorten|condense|simplify|revise|polish|edit|"
    r"tidy|rephrase|reword)\s+(?:the|this|your)\s+(?:\w+\s+)?(?:chapter|transcript|section|"
    r"passage|version|paragraphs?)\b"
    r"|\bthe\s+editor'?s?\s+(?:request|asks?|wants|instructions?|note)\b"
    r"|\bI(?:'ll|\s+will)\s+(?:try\s+to\s+)?keep\s+it\s+(?:to|under|within|short|brief|"
    r"concise|more)\b",
    re.IGNORECASE)
# a reply's acknowledgement on its own: "Understood!", "Sure.", "Certainly!"
_ACK = re.compile(r"^\W*(?:understood|certainly|sure|of\s+course|got\s+it|absolutely|okay|ok|"
                  r"alright|all\s+right|no\s+problem|great|noted)\W*$", re.IGNORECASE)
# "no introduction, summary or conclusion": two of the three, said as left out
_FRAME_PARTS = re.compile(r"\b(?:introductions?|intro|summary|summaries|conclusions?)\b",
                          re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:no|not|without|nor|neither|never|omit\w*|leav\w*\s+out)\b",
                       re.IGNORECASE)
# …of the text being written, not of a paper or a statistic ("no summary statistics")
_OWN_TEXT = re.compile(r"\b(?:I|my|own|text|chapter|section|article|paragraphs?|prose|add\w*|"
                       r"includ\w*|writ\w*)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z']+")
_QUIET = set("""the and for are was were with that this from into your you our its his her
their them they then than but not nor only also just will would should could can may might
must shall have has had been being does did done any all each every some such very more most
what when where which who whom whose why how one ones own same other""".split())


def _content(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _QUIET]


def _pairs(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:]))


@functools.lru_cache(maxsize=1)
def _instruction_pairs() -> frozenset[tuple[str, str]]:
    """Word pairs of the shipped prompts' own wording: a sentence made of them is the
    instructions said back ("…plain Markdown paragraphs, with no introduction, summary…")."""
    from ..llm.prompts import SHIPPED

    pairs: set[tuple[str, str]] = set()
    for p in SHIPPED.glob("*.j2"):
        text = re.sub(r"\{[{%#].*?[}%#]\}", " ", p.read_text(encoding="utf-8"), flags=re.DOTALL)
        for line in text.splitlines():
            pairs |= _pairs(_content(line))
    return frozenset(pairs)


def echoes_instructions(sentence: str) -> bool:
    """At least two word pairs of the sentence, and a third of them, are the prompts' own."""
    pairs = _pairs(_content(sentence))
    if len(pairs) < 2:
        return False
    shared = len(pairs & _instruction_pairs())
    return shared >= 2 and shared / len(pairs) >= 1 / 3


def is_scaffolding(sentence: str) -> bool:
    """A sentence about the task, the text or its format, not about the talk."""
    if _META.search(sentence) or _ABOUT_TEXT.search(sentence) or _ACK.match(sentence):
        return True
    if len(_FRAME_PARTS.findall(sentence)) >= 2 and _NEGATION.search(sentence) and \
            _OWN_TEXT.search(sentence):
        return True
    return echoes_instructions(sentence)


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
    return bool(sents) and all(is_scaffolding(x) for x in sents)


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
    while len(sents) > 1 and is_scaffolding(sents[0 if first else -1]):
        cut.append(sents.pop(0 if first else -1).strip())
    return ("".join(sents).strip() if cut else p), cut


def leftover(text: str) -> list[str]:
    """Sentences about the task still inside the text (outside code)."""
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    prose = re.sub(r"`[^`]*`", "", prose)
    return [s.strip() for s in _SENTENCE.findall(prose) if is_scaffolding(s)] + \
        [m.group(0).strip() for m in _META_CJK.finditer(prose)]


def trim(text: str) -> str:
    """Every sentence about the task removed (the last resort)."""
    text = _META_CJK.sub("", text)
    out = []
    for p in re.split(r"(\n\s*\n)", text):
        if p.strip() and "```" not in p:
            p = "".join(s for s in _SENTENCE.findall(p) if not is_scaffolding(s)).strip()
        out.append(p)
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()
