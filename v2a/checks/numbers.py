"""Numbers compared as numbers: "forty" = "40", "a hundred thousand" = "100 000"."""

from __future__ import annotations

import re

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


def spell(n: int) -> list[str]:
    """An integer in English words ("276" → two hundred seventy six)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    for size, name in _SCALES:
        if n >= size:
            rest = n % size
            return spell(n // size) + [name] + (spell(rest) if rest else [])
    return [str(n)]  # pragma: no cover - every n >= 100 has a scale


def tokens(text: str) -> list[str]:
    """Lower-case word tokens with every number spelled out ("GPT-4" → gpt four)."""
    text = re.sub(r"(\d)[ ,](?=\d{3}\b)", r"\1", text)  # "100 000", "50,000"
    out: list[str] = []
    for t in re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("-", " ")):
        if t.isdigit() and len(t) < 10 and not (len(t) > 1 and t.startswith("0")):
            out.extend(spell(int(t)))
        else:
            out.append(t.replace("iour", "ior"))  # behaviour = behavior
    # "a hundred" is "one hundred"
    return ["one" if t == "a" and k + 1 < len(out) and out[k + 1] in ("hundred", "thousand")
            else t for k, t in enumerate(out)]


def said(number: str, text_tokens: list[str]) -> bool:
    """Whether ``number`` (digits) occurs in ``text_tokens`` (from ``tokens``), as words."""
    want = tokens(number)
    n = len(want)
    return any(text_tokens[k:k + n] == want for k in range(len(text_tokens) - n + 1))
